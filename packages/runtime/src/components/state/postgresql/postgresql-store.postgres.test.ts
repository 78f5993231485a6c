/**
 * `state.postgresql` behaviour the conformance suite cannot see through the API: the table layout and
 * its creation, background cleanup, etag formats per version, and values jsonb cannot hold.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../../../test/support/services.js';
import { silentLogger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import { ETagInvalidError } from '../store.js';
import { PostgresStateStore, jsonForQuery } from './postgresql-store.js';
import type { PostgresStateVersion } from './postgresql-store.js';

const run = await requireService(SERVICES.postgres, 'state.postgresql driver');
const CONTEXT: ComponentContext = { name: 's', appId: 'pgtest', namespace: '', dataDir: '', logger: silentLogger(), env: {} };

describe('jsonForQuery', () => {
  it('re-serialises JSON and returns null for bytes that are not JSON or that jsonb cannot hold', () => {
    expect(jsonForQuery(Buffer.from('{ "b": 1,  "a": [1.50] }'))).toBe('{"b":1,"a":[1.5]}');
    expect(jsonForQuery(Buffer.from('not json'))).toBeNull();
    expect(jsonForQuery(Buffer.from('"nul \\u0000"'))).toBeNull();
    expect(jsonForQuery(Buffer.from('"lone \\ud800"'))).toBeNull();
    // An escaped backslash followed by "u0000" is plain text, and a surrogate pair is a real character.
    expect(jsonForQuery(Buffer.from('"\\\\u0000"'))).toBe('"\\\\u0000"');
    expect(jsonForQuery(Buffer.from('"\\ud83d\\udd11"'))).toBe('"🔑"');
  });
});

describe.skipIf(!run)('PostgresStateStore', () => {
  const id = randomBytes(4).toString('hex');
  const tables: string[] = [];
  const stores: PostgresStateStore[] = [];
  let admin: pg.Client;

  /** Opens a store on a fresh table (or the given one). */
  /** Opens a store on a fresh table (or the given one): v1 by tableName, v2 by tablePrefix. */
  async function open(version: PostgresStateVersion, table = `weft_pgt_${id}_${tables.length}`, extra: Record<string, string> = {}) {
    const store = new PostgresStateStore(version);
    stores.push(store);
    const metadataTableName = `${table.replace('.', '_')}_meta`;
    const where: Record<string, string> = version === 'v1' ? { tableName: table } : { tablePrefix: `${table}_` };
    const actual = version === 'v1' ? table : `${table}_state`;
    tables.push(actual, metadataTableName);
    await store.init({ connectionString: POSTGRES_URL, ...where, metadataTableName, ...extra }, CONTEXT);
    return { store, table: actual, metadataTableName };
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`DROP SCHEMA IF EXISTS weft_pgs_${id} CASCADE`);
    await admin.end();
  });

  it('reports the row xmin as the v1 etag and a UUID as the v2 etag', async () => {
    const v1 = await open('v1');
    await v1.store.set({ key: 'k', value: Buffer.from('1') });
    const { rows } = await admin.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM ${v1.table} WHERE key = 'k'`);
    expect((await v1.store.get({ key: 'k' }))?.etag).toBe(rows[0]?.xmin);
    const v2 = await open('v2');
    await v2.store.set({ key: 'k', value: Buffer.from('1') });
    const { rows: v2rows } = await admin.query<{ etag: string }>(`SELECT etag::text AS etag FROM ${v2.table} WHERE key = 'k'`);
    expect((await v2.store.get({ key: 'k' }))?.etag).toBe(v2rows[0]?.etag);
  });

  it('rejects etags outside each version format as invalid', async () => {
    const { store: v1 } = await open('v1');
    await expect(v1.set({ key: 'k', value: Buffer.from('1'), etag: '4294967296' })).rejects.toBeInstanceOf(ETagInvalidError);
    await expect(v1.set({ key: 'k', value: Buffer.from('1'), etag: '2f1c0b7e-0000-4000-8000-000000000000' })).rejects.toBeInstanceOf(ETagInvalidError);
    const { store: v2 } = await open('v2');
    await expect(v2.delete({ key: 'k', etag: '12' })).rejects.toBeInstanceOf(ETagInvalidError);
  });

  it('deletes expired rows on cleanup, and lets one store claim a cleanup round per interval', async () => {
    const a = await open('v2');
    const b = new PostgresStateStore('v2');
    stores.push(b);
    await b.init({ connectionString: POSTGRES_URL, tablePrefix: a.table.replace(/state$/, ''), metadataTableName: a.metadataTableName }, CONTEXT);
    await a.store.set({ key: 'gone-1', value: Buffer.from('1'), ttlSeconds: 0 });
    await a.store.set({ key: 'gone-2', value: Buffer.from('1'), ttlSeconds: 0 });
    await a.store.set({ key: 'live', value: Buffer.from('1'), ttlSeconds: 3600 });
    expect(await a.store.get({ key: 'gone-1' })).toBeUndefined();
    const count = async () => Number((await admin.query(`SELECT count(*) AS n FROM ${a.table}`)).rows[0].n);
    expect(await count()).toBe(3);
    expect(await a.store.cleanupExpired()).toBe(2);
    expect(await count()).toBe(1);
    await a.store.set({ key: 'gone-3', value: Buffer.from('1'), ttlSeconds: 0 });
    expect(await b.cleanupExpired()).toBe(0);
    expect(await b.cleanupExpired(true)).toBe(1);
    expect(await count()).toBe(1);
  });

  it('creates the table once when several stores start on it at the same time', async () => {
    const table = `weft_pgt_${id}_race`;
    tables.push(`${table}_state`, `${table}_meta`);
    const racing = Array.from({ length: 6 }, () => new PostgresStateStore('v2'));
    stores.push(...racing);
    await Promise.all(racing.map((s) => s.init({ connectionString: POSTGRES_URL, tablePrefix: `${table}_`, metadataTableName: `${table}_meta` }, CONTEXT)));
    await racing[0]?.set({ key: 'k', value: Buffer.from('"x"') });
    expect((await racing[5]?.get({ key: 'k' }))?.value.toString()).toBe('"x"');
  });

  it('works on a schema-qualified tableName', async () => {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS weft_pgs_${id}`);
    const { store } = await open('v1', `weft_pgs_${id}.state`);
    await store.set({ key: 'k', value: Buffer.from('{"a":1}') });
    expect((await store.query({ filter: { EQ: { a: 1 } } }, '')).results.map((r) => r.key)).toEqual(['k']);
  });

  it('keeps values jsonb cannot hold byte for byte, and treats them as not JSON in queries', async () => {
    const { store } = await open('v1');
    const nul = Buffer.from('{"a":"\\u0000"}');
    await store.set({ key: 'p||nul', value: nul });
    await store.set({ key: 'p||ok', value: Buffer.from('{"a":"x"}') });
    expect((await store.get({ key: 'p||nul' }))?.value.equals(nul)).toBe(true);
    expect((await store.query({}, 'p||')).results.map((r) => r.key)).toEqual(['p||nul', 'p||ok']);
    expect((await store.query({ filter: { NEQ: { a: 'y' } } }, 'p||')).results.map((r) => r.key)).toEqual(['p||ok']);
  });

  it('fails init with an error naming the store when the database cannot be reached', async () => {
    const store = new PostgresStateStore('v2');
    await expect(store.init({ connectionString: 'postgres://postgres@127.0.0.1:1/test', timeout: '2s' }, CONTEXT)).rejects.toThrow(
      /^postgres store: cannot reach Postgres at 127\.0\.0\.1:1\/test: connection refused/,
    );
  });
});
