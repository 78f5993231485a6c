/**
 * The raw baseline for `state.sqlite`: better-sqlite3 doing what the driver
 * (`packages/runtime/src/components/state/sqlite/sqlite-store.ts`) does for one save and one get, with
 * the driver's own pieces imported so the two cannot drift apart: the connection set-up
 * (`openSqlite`: WAL, `synchronous = NORMAL`, busy timeout), Dapr's table layout, the value encoding,
 * the timestamps, the statements, and WAL checkpoints in a worker thread ({@link WalCheckpointer}). A
 * save without an etag is one `INSERT OR REPLACE` (no read of the current row, no BEGIN/COMMIT), as
 * in the driver.
 */
import { randomUUID } from 'node:crypto';
import { encodeSqliteValue, sqliteTimestamp } from '../../../packages/runtime/src/components/state/sqlite/sqlite-store.js';
import { openSqlite } from '../../../packages/runtime/src/util/open-sqlite.js';
import { silentLogger } from '../../../packages/runtime/src/logging/logger.js';
import { WalCheckpointer } from '../../../packages/runtime/src/util/sqlite-wal-checkpointer.js';
import type { StateClient } from '../clients.js';
import { valueJson } from '../clients.js';

interface Row {
  key: string;
  value: string | Buffer;
  is_binary: number;
  etag: string;
  expiration_time: string | null;
}

/** Opens (and creates) `tableName` in `filePath` as the driver does (its default busy timeout). */
export function rawSqliteClient(filePath: string, tableName: string, valueBytes: number): StateClient {
  const db = openSqlite(filePath, 2000);
  const checkpointer = new WalCheckpointer(db, filePath, silentLogger(), 'raw state');
  const t = tableName;
  db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL,
    etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
  )`);
  const get = db.prepare<[string, string], Row>(
    `SELECT key, value, is_binary, etag, expiration_time FROM ${t} WHERE key = ? AND (expiration_time IS NULL OR expiration_time > ?)`,
  );
  const upsert = db.prepare<[string, string, number, string, string | null, string]>(
    `INSERT OR REPLACE INTO ${t} (key, value, is_binary, etag, expiration_time, update_time) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const value = Buffer.from(valueJson(valueBytes));
  return {
    async save(key) {
      const { text, isBinary } = encodeSqliteValue(value);
      upsert.run(key, text, isBinary ? 1 : 0, randomUUID(), null, sqliteTimestamp(new Date()));
      checkpointer.wrote();
    },
    async get(key) {
      const row = get.get(key, sqliteTimestamp(new Date()));
      if (!row) throw new Error(`key ${key} not found`);
      const bytes = typeof row.value === 'string' ? Buffer.byteLength(row.value) : row.value.length;
      if (bytes !== valueBytes) throw new Error(`get returned ${bytes} bytes, expected ${valueBytes}`);
    },
    async close() {
      await checkpointer.close();
      db.close();
    },
  };
}
