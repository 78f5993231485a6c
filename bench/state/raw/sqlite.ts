/**
 * The raw baseline for `state.sqlite`: better-sqlite3 doing what the driver
 * (`packages/runtime/src/components/state/sqlite/sqlite-store.ts`) does for one save and one get —
 * same pragmas, schema and statements; a save is `BEGIN IMMEDIATE`, read the current row (the
 * driver's etag check), upsert with a fresh UUID etag, `COMMIT`. Keep it in step with the driver.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { StateClient } from '../clients.js';
import { valueJson } from '../clients.js';

interface Row {
  key: string;
  value: Buffer;
  etag: string;
  expires_at: number | null;
  content_type: string | null;
}

/** Opens (and creates) `tableName` in `filePath` as the driver does. */
export function rawSqliteClient(filePath: string, tableName: string, valueBytes: number): StateClient {
  const db = new Database(filePath, { timeout: 2000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const t = tableName;
  db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    etag TEXT NOT NULL,
    expires_at INTEGER,
    content_type TEXT,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
  db.exec(`CREATE INDEX IF NOT EXISTS ${t}_expires_at ON ${t} (expires_at) WHERE expires_at IS NOT NULL`);
  const get = db.prepare<[string, number], Row>(
    `SELECT key, value, etag, expires_at, content_type FROM ${t} WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  );
  const upsert = db.prepare<[string, Buffer, string, number | null, string | null, number]>(
    `INSERT INTO ${t} (key, value, etag, expires_at, content_type, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag,
       expires_at = excluded.expires_at, content_type = excluded.content_type, updated_at = excluded.updated_at`,
  );
  const write = db.transaction((key: string, value: Buffer) => {
    const now = Date.now();
    get.get(key, now);
    upsert.run(key, value, randomUUID(), null, null, now);
  });
  const value = Buffer.from(valueJson(valueBytes));
  return {
    async save(key) {
      write.immediate(key, value);
    },
    async get(key) {
      const row = get.get(key, Date.now());
      if (!row) throw new Error(`key ${key} not found`);
      if (row.value.length !== valueBytes) throw new Error(`get returned ${row.value.length} bytes, expected ${valueBytes}`);
    },
    async close() {
      db.close();
    },
  };
}
