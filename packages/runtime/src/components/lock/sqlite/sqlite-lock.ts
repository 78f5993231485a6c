/**
 * `lock.sqlite`: the embedded lock store. Locks are rows of one table in a WAL-mode SQLite file, so
 * every Weft process on the machine that opens the same file shares them. Taking a lock is one upsert
 * that only replaces an expired row, and releasing is one `BEGIN IMMEDIATE` transaction: SQLite's
 * write lock makes both atomic across processes.
 *
 * Metadata: `connectionString` (the file), `tableName` (default `locks`), `busyTimeout` (default 2s).
 * Times are the machine's clock in milliseconds; all processes sharing a file share that clock.
 */
import type Database from 'better-sqlite3';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { readDurationMs } from '../../metadata.js';
import { readSqlIdentifier, readSqliteFile } from '../../sqlite-file.js';
import { openSqlite } from '../../../util/open-sqlite.js';
import type { LockStore, TryLockRequest, UnlockStatusValue } from '../store.js';
import { UnlockStatus } from '../store.js';

interface Statements {
  take: Database.Statement<[string, string, number, number]>;
  read: Database.Statement<[string], { owner: string; expires_at: number }>;
  remove: Database.Statement<[string]>;
  unlock: Database.Transaction<(key: string, owner: string, now: number) => UnlockStatusValue>;
}

/** SQLite lock store. */
export class SqliteLockStore implements LockStore {
  private db: Database.Database | undefined;
  private sql: Statements | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const file = readSqliteFile(props, context.dataDir);
    const table = readSqlIdentifier(props, 'tableName', 'locks');
    const db = openSqlite(file, readDurationMs(props, 'busyTimeout', 2000));
    this.db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
    const read = db.prepare<[string], { owner: string; expires_at: number }>(`SELECT owner, expires_at FROM ${table} WHERE key = ?`);
    const remove = db.prepare<[string]>(`DELETE FROM ${table} WHERE key = ?`);
    const unlock = db.transaction((key: string, owner: string, now: number): UnlockStatusValue => {
      const row = read.get(key);
      if (!row) return UnlockStatus.LOCK_DOES_NOT_EXIST;
      if (row.expires_at <= now) {
        remove.run(key);
        return UnlockStatus.LOCK_DOES_NOT_EXIST;
      }
      if (row.owner !== owner) return UnlockStatus.LOCK_BELONGS_TO_OTHERS;
      remove.run(key);
      return UnlockStatus.SUCCESS;
    });
    this.sql = {
      // Inserts a free lock, or takes over an expired one; a live row is left alone (0 changes).
      take: db.prepare(
        `INSERT INTO ${table} (key, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE ${table}.expires_at <= ?`,
      ),
      read,
      remove,
      unlock,
    };
  }

  async tryLock(request: TryLockRequest): Promise<boolean> {
    const now = Date.now();
    return this.statements().take.run(request.key, request.owner, now + request.expiryInSeconds * 1000, now).changes === 1;
  }

  async unlock(key: string, owner: string): Promise<UnlockStatusValue> {
    // IMMEDIATE: the read and the delete happen under the write lock, so no other process slips between.
    return this.statements().unlock.immediate(key, owner, Date.now());
  }

  async close(): Promise<void> {
    this.sql = undefined;
    this.db?.close();
    this.db = undefined;
  }

  private statements(): Statements {
    if (!this.sql) throw new Error('lock.sqlite is not initialised');
    return this.sql;
  }
}
