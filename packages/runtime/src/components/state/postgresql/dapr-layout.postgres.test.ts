/**
 * `state.postgresql` on Dapr's own table layouts, both ways: rows written with daprd's SQL (v1 and v2)
 * are read by Weft, and rows Weft writes are what daprd's SQL reads and updates.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../../../test/support/services.js';
import { silentLogger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import { PostgresStateStore } from './postgresql-store.js';

const run = await requireService(SERVICES.postgres, 'state.postgresql Dapr layouts');
const CONTEXT: ComponentContext = { name: 's', appId: 'pgdapr', namespace: '', dataDir: '', logger: silentLogger(), env: {} };

describe.skipIf(!run)('state.postgresql on Dapr layouts', () => {
  const id = randomBytes(4).toString('hex');
  const drop: string[] = [];
  const stores: PostgresStateStore[] = [];
  let admin: pg.Client;

  async function open(version: 'v1' | 'v2', props: Record<string, string>): Promise<PostgresStateStore> {
    const store = new PostgresStateStore(version);
    stores.push(store);
    await store.init({ connectionString: POSTGRES_URL, ...props }, CONTEXT);
    return store;
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const table of drop) await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  it('v1: reads what daprd wrote (jsonb value, base64 when isbinary, xmin etag, expiredate) and queries value', async () => {
    const table = `weft_dv1_${id}`;
    const meta = `weft_dv1m_${id}`;
    drop.push(table, meta);
    // daprd's v1 migrations 1 and 2 and its metadata table, as an older daprd leaves them.
    await admin.query(`CREATE TABLE ${meta} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`);
    await admin.query(`CREATE TABLE ${table} (key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
      insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(), updatedate TIMESTAMP WITH TIME ZONE NULL)`);
    await admin.query(`ALTER TABLE ${table} ADD expiredate TIMESTAMP WITH TIME ZONE`);
    await admin.query(`INSERT INTO ${meta} (key, value) VALUES ('migrations', '2')`);
    const daprSet = `INSERT INTO ${table} AS t (key, value, isbinary, expiredate) VALUES ($1, $2, $3, NULL)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, isbinary = excluded.isBinary, updatedate = CURRENT_TIMESTAMP, expiredate = NULL`;
    await admin.query(daprSet, ['app||order', '{"status":"paid","total":12}', false]);
    await admin.query(daprSet, ['app||blob', JSON.stringify(Buffer.from([0, 1, 254]).toString('base64')), true]);
    await admin.query(`INSERT INTO ${table} (key, value, isbinary, expiredate) VALUES ('app||gone', '1', false, CURRENT_TIMESTAMP - interval '1 seconds')`);

    const store = await open('v1', { tableName: table, metadataTableName: meta });
    const order = await store.get({ key: 'app||order' });
    expect(JSON.parse(order?.value.toString() ?? '')).toEqual({ status: 'paid', total: 12 });
    const { rows } = await admin.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM ${table} WHERE key = 'app||order'`);
    expect(order?.etag).toBe(rows[0]?.xmin);
    expect((await store.get({ key: 'app||blob' }))?.value).toEqual(Buffer.from([0, 1, 254]));
    expect(await store.get({ key: 'app||gone' })).toBeUndefined();
    expect((await store.query({ filter: { EQ: { status: 'paid' } } }, 'app||')).results.map((r) => r.key)).toEqual(['app||order']);
    await store.set({ key: 'app||order', value: Buffer.from('{"status":"shipped"}'), etag: order?.etag ?? '' });
    // Weft brought the table to daprd's latest migration level (row_id identity included).
    expect((await admin.query(`SELECT value FROM ${meta} WHERE key = 'migrations'`)).rows[0]).toEqual({ value: '3' });
    const rowIds = await admin.query<{ row_id: string }>(`SELECT row_id::text FROM ${table} ORDER BY row_id`);
    expect(rowIds.rows.length).toBe(3);
  });

  it('v1: writes what daprd reads (jsonb and isbinary) and daprd can update by xmin', async () => {
    const table = `weft_wv1_${id}`;
    const meta = `weft_wv1m_${id}`;
    drop.push(table, meta);
    const store = await open('v1', { tableName: table, metadataTableName: meta });
    await store.set({ key: 'app||json', value: Buffer.from('{"a":[1,2]}') });
    await store.set({ key: 'app||bin', value: Buffer.from([0xff, 0x00]) });
    await store.set({ key: 'app||ttl', value: Buffer.from('"x"'), ttlSeconds: 60 });
    const daprGet = `SELECT key, value, isbinary, xmin AS etag, expiredate FROM ${table}
      WHERE key = $1 AND (expiredate IS NULL OR expiredate >= CURRENT_TIMESTAMP)`;
    const json = (await admin.query(daprGet, ['app||json'])).rows[0];
    expect(json).toMatchObject({ value: { a: [1, 2] }, isbinary: false });
    const bin = (await admin.query(daprGet, ['app||bin'])).rows[0];
    expect(bin).toMatchObject({ value: Buffer.from([0xff, 0x00]).toString('base64'), isbinary: true });
    expect((await admin.query(daprGet, ['app||ttl'])).rows[0]?.expiredate).toBeInstanceOf(Date);
    // daprd's etag update, with the etag Weft reported.
    const etag = (await store.get({ key: 'app||json' }))?.etag;
    const updated = await admin.query(
      `UPDATE ${table} SET value = $2, isbinary = $3, updatedate = CURRENT_TIMESTAMP, expiredate = NULL
       WHERE key = $1 AND xmin = $4 AND (expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)`,
      ['app||json', '{"a":3}', false, Number(etag)],
    );
    expect(updated.rowCount).toBe(1);
    expect((await store.get({ key: 'app||json' }))?.value.toString()).toBe('{"a": 3}');
    // daprd's insert (no row_id given) works on the table Weft created.
    await admin.query(`INSERT INTO ${table} (key, value, isbinary, expiredate) VALUES ('app||d', '2', false, NULL)`);
    expect((await store.get({ key: 'app||d' }))?.value.toString()).toBe('2');
  });

  it('v2: reads and writes daprd\'s <tablePrefix>state (bytea value, uuid etag, expires_at) under its migration key', async () => {
    const prefix = `weft_dv2_${id}_`;
    const meta = `weft_dv2m_${id}`;
    drop.push(`${prefix}state`, meta);
    await admin.query(`CREATE TABLE ${meta} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`);
    await admin.query(`CREATE TABLE ${prefix}state (key text NOT NULL PRIMARY KEY, value bytea NOT NULL,
      etag uuid NOT NULL DEFAULT gen_random_uuid(), created_at timestamp with time zone NOT NULL DEFAULT now(),
      updated_at timestamp with time zone, expires_at timestamp with time zone)`);
    await admin.query(`INSERT INTO ${meta} (key, value) VALUES ($1, '1')`, [`migrations-state-v2-${prefix}`]);
    await admin.query(`INSERT INTO ${prefix}state AS t (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), NULL)`, [
      'app||raw',
      Buffer.from('{ "spacing":  "kept" }'),
    ]);

    const store = await open('v2', { tablePrefix: prefix, metadataTableName: meta });
    expect(store.features()).not.toContain('QUERY_API');
    const raw = await store.get({ key: 'app||raw' });
    expect(raw?.value.toString()).toBe('{ "spacing":  "kept" }');
    await store.set({ key: 'app||raw', value: Buffer.from([1, 2, 3]), etag: raw?.etag ?? '' });
    await store.set({ key: 'app||ttl', value: Buffer.from('x'), ttlSeconds: 60 });
    const daprGet = `SELECT value, etag, expires_at FROM ${prefix}state WHERE key = $1 AND (expires_at IS NULL OR expires_at >= now())`;
    expect((await admin.query(daprGet, ['app||raw'])).rows[0]?.value).toEqual(Buffer.from([1, 2, 3]));
    expect((await admin.query(daprGet, ['app||ttl'])).rows[0]?.expires_at).toBeInstanceOf(Date);
    expect((await admin.query(`SELECT value FROM ${meta} WHERE key = $1`, [`migrations-state-v2-${prefix}`])).rows[0]).toEqual({ value: '2' });
  });

  it('v2: tablePrefix names the table it creates; tableName is refused on v2 and tablePrefix on v1', async () => {
    const prefix = `weft_pv2_${id}_`;
    const meta = `weft_pv2m_${id}`;
    drop.push(`${prefix}state`, meta);
    const store = await open('v2', { tablePrefix: prefix, metadataTableName: meta });
    await store.set({ key: 'k', value: Buffer.from('1') });
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${prefix}state`)).rows[0]).toEqual({ n: 1 });
    await expect(open('v2', { tableName: 'x' })).rejects.toThrow(/tableName.*not a state.postgresql v2 field/);
    await expect(open('v1', { tablePrefix: 'x_' })).rejects.toThrow(/tablePrefix.*v2 field/);
  });
});
