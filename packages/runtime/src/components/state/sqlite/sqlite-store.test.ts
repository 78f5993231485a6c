/**
 * `state.sqlite` reads and writes Dapr's SQLite state layout: rows written with daprd's SQL shape are
 * read by Weft, and rows Weft writes are what daprd's SQL reads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import { SqliteStateStore } from './sqlite-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-sqlite-layout-'));
const CONTEXT: ComponentContext = { name: 's', appId: 'sqltest', namespace: '', dataDir: dir, logger: silentLogger(), env: {} };
const stores: SqliteStateStore[] = [];

async function open(file: string, extra: Record<string, string> = {}): Promise<SqliteStateStore> {
  const store = new SqliteStateStore();
  stores.push(store);
  await store.init({ connectionString: path.join(dir, file), ...extra }, CONTEXT);
  return store;
}

/** The statements daprd's SQLite state store runs (migration 1, set, get), spelled as it spells them. */
function daprDatabase(file: string): Database.Database {
  const db = new Database(path.join(dir, file));
  db.exec(`CREATE TABLE IF NOT EXISTS metadata (key text NOT NULL PRIMARY KEY, value text NOT NULL)`);
  db.exec(`CREATE TABLE IF NOT EXISTS state (
    key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, is_binary BOOLEAN NOT NULL, etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL, update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
  db.exec(`REPLACE INTO metadata (key, value) VALUES ('migrations', '1')`);
  return db;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('state.sqlite on Dapr\'s layout', () => {
  it('reads rows daprd wrote: JSON text, base64 binary, and expiration times', async () => {
    const dapr = daprDatabase('from-dapr.db');
    const insert = dapr.prepare(
      `INSERT OR REPLACE INTO state (key, value, is_binary, etag, update_time, expiration_time) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, ?)`,
    );
    insert.run('app||json', '{"a":1,"b":"x"}', 0, 'e1', null);
    insert.run('app||bin', Buffer.from([0, 1, 254, 255]).toString('base64'), 1, 'e2', null);
    dapr.prepare(
      `INSERT OR REPLACE INTO state (key, value, is_binary, etag, update_time, expiration_time) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, DATETIME(CURRENT_TIMESTAMP, '+60 seconds'))`,
    ).run('app||ttl', '"soon"', 0, 'e3');
    dapr.prepare(
      `INSERT OR REPLACE INTO state (key, value, is_binary, etag, update_time, expiration_time) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, DATETIME(CURRENT_TIMESTAMP, '-1 seconds'))`,
    ).run('app||gone', '"old"', 0, 'e4');
    dapr.close();

    const store = await open('from-dapr.db');
    expect((await store.get({ key: 'app||json' }))?.value.toString()).toBe('{"a":1,"b":"x"}');
    expect((await store.get({ key: 'app||json' }))?.etag).toBe('e1');
    expect((await store.get({ key: 'app||bin' }))?.value).toEqual(Buffer.from([0, 1, 254, 255]));
    const ttl = await store.get({ key: 'app||ttl' });
    expect(ttl?.value.toString()).toBe('"soon"');
    expect(ttl?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await store.get({ key: 'app||gone' })).toBeUndefined();
    expect((await store.query({ filter: { EQ: { a: 1 } } }, 'app||')).results.map((r) => r.key)).toEqual(['app||json']);
    // Etag checks work against Dapr's etags, and Weft's writes keep the layout.
    await store.set({ key: 'app||json', value: Buffer.from('{"a":2}'), etag: undefined });
    await expect(store.set({ key: 'app||bin', value: Buffer.from('1'), etag: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/etag mismatch/);
  });

  it('writes rows daprd reads: JSON as text, other bytes base64 with is_binary, TTL comparable with CURRENT_TIMESTAMP', async () => {
    const store = await open('from-weft.db');
    await store.set({ key: 'app||json', value: Buffer.from('{ "keep": "spacing" }') });
    await store.set({ key: 'app||bin', value: Buffer.from([0xff, 0x00, 0x7b]) });
    await store.set({ key: 'app||text', value: Buffer.from('plain text') });
    await store.set({ key: 'app||ttl', value: Buffer.from('1'), ttlSeconds: 60 });
    await store.close();

    const dapr = new Database(path.join(dir, 'from-weft.db'), { readonly: true });
    const get = dapr.prepare<[string], { value: string; is_binary: number; etag: string; expiration_time: string | null }>(
      `SELECT key, value, is_binary, etag, expiration_time FROM state WHERE key = ? AND (expiration_time IS NULL OR expiration_time > CURRENT_TIMESTAMP)`,
    );
    expect(get.get('app||json')).toMatchObject({ value: '{ "keep": "spacing" }', is_binary: 0, expiration_time: null });
    expect(get.get('app||bin')).toMatchObject({ value: Buffer.from([0xff, 0x00, 0x7b]).toString('base64'), is_binary: 1 });
    expect(get.get('app||text')).toMatchObject({ value: Buffer.from('plain text').toString('base64'), is_binary: 1 });
    expect(get.get('app||json')?.etag).toMatch(/^[0-9a-f-]{36}$/);
    const ttl = get.get('app||ttl');
    expect(ttl?.expiration_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(dapr.prepare(`SELECT count(*) AS n FROM state WHERE expiration_time > DATETIME(CURRENT_TIMESTAMP, '+50 seconds')`).get()).toEqual({ n: 1 });
    expect(dapr.prepare(`SELECT value FROM metadata WHERE key = 'migrations'`).get()).toEqual({ value: '1' });
    dapr.close();
  });

  it('moves a table of the layout early Weft releases used into Dapr\'s, keeping values and etags', async () => {
    const db = new Database(path.join(dir, 'weft01.db'));
    db.exec(`CREATE TABLE state (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER,
      content_type TEXT, updated_at INTEGER NOT NULL) WITHOUT ROWID`);
    const insert = db.prepare('INSERT INTO state VALUES (?, ?, ?, ?, ?, ?)');
    insert.run('app||a', Buffer.from('{"a":1}'), 'etag-a', null, null, Date.now());
    insert.run('app||b', Buffer.from([0, 255]), 'etag-b', Date.now() + 60_000, null, Date.now());
    insert.run('app||gone', Buffer.from('1'), 'etag-c', Date.now() - 1000, null, Date.now());
    db.close();
    const store = await open('weft01.db');
    expect(await store.get({ key: 'app||a' })).toMatchObject({ value: Buffer.from('{"a":1}'), etag: 'etag-a' });
    expect((await store.get({ key: 'app||b' }))?.value).toEqual(Buffer.from([0, 255]));
    expect(await store.get({ key: 'app||gone' })).toBeUndefined();
  });

  it('refuses a table in another layout, naming the missing columns, and disableWAL as unsupported', async () => {
    const db = new Database(path.join(dir, 'old.db'));
    db.exec('CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB, etag TEXT, expires_at INTEGER)');
    db.close();
    await expect(open('old.db')).rejects.toThrow(/lacks the columns is_binary, expiration_time, update_time/);
    await expect(open('wal.db', { disableWAL: 'true' })).rejects.toThrow(/disableWAL.*not supported/);
  });

  it('leaves WAL checkpoints to its worker thread: no save copies the WAL into the database file', async () => {
    const file = path.join(dir, 'checkpoints.db');
    const store = await open('checkpoints.db');
    const sizeBefore = fs.statSync(file).size;
    // About five WAL pages a save: 400 saves pass SQLite's automatic threshold (1,000 pages) twice,
    // which would have copied pages into the database file inside a save, on the event loop.
    const value = Buffer.from(JSON.stringify('v'.repeat(1022)));
    for (let i = 0; i < 400; i++) await store.set({ key: `app||k${i % 100}`, value });
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(1000 * 4096);
    expect(fs.statSync(file).size).toBe(sizeBefore);
    // The worker copies them shortly after.
    await vi.waitFor(() => expect(fs.statSync(file).size).toBeGreaterThan(sizeBefore), { timeout: 10_000, interval: 20 });
    expect((await store.get({ key: 'app||k99' }))?.value).toEqual(value);
  });
});
