/**
 * `state.sqlite`: the embedded default. One WAL-mode file in `./.weft/` that several Weft processes on
 * one machine share safely: writes take SQLite's write lock up front (`BEGIN IMMEDIATE`), so an etag
 * check and the write it guards cannot interleave with another process.
 *
 * The table is Dapr's SQLite state layout, read and written as daprd does, so one database file works
 * under either: `key`, `value` TEXT (the JSON text, or base64 when `is_binary`), `is_binary`, `etag`
 * (a UUID), `expiration_time` and `update_time` (UTC `YYYY-MM-DD HH:MM:SS[.fff]` text, compared with
 * SQLite's `CURRENT_TIMESTAMP`), plus the `metadata` table holding the migration level and last cleanup.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { openSqlite } from '../../../util/open-sqlite.js';
import { WalCheckpointer } from '../../../util/sqlite-wal-checkpointer.js';
import { checkWrite, expiryFromTtl } from '../etag.js';
import { evaluateQuery } from '../query.js';
import type {
  BulkStateStore,
  KeyListingStateStore,
  ListKeysRequest,
  QueryableStateStore,
  StateDeleteRequest,
  StateFeature,
  StateGetRequest,
  StateItem,
  StateOperation,
  StateQuery,
  StateQueryResult,
  StateSetRequest,
  TransactionalStateStore,
} from '../store.js';
import { parseSqliteStateMetadata } from './metadata.js';

const FEATURES: readonly StateFeature[] = ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'];

/** The migration level Dapr's SQLite state store records once its table exists. */
const DAPR_MIGRATION_LEVEL = 1;

interface Row {
  key: string;
  value: string | Buffer;
  is_binary: number;
  etag: string;
  expiration_time: string | null;
}

/** A time as SQLite's `CURRENT_TIMESTAMP` spells it, with milliseconds (`2024-05-01 10:00:00.250`). */
export function sqliteTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}


/** Whether a write depends on the current row: an etag to compare, or first-write concurrency on a save. */
function needsCurrent(op: StateOperation): boolean {
  const { etag } = op.request;
  if (etag !== undefined && etag !== '') return true;
  return op.type !== 'delete' && op.request.options?.concurrency === 'first-write';
}

function parseSqliteTimestamp(text: string): Date {
  return new Date(`${text.trim().replace(' ', 'T')}Z`);
}

/**
 * How Dapr stores a value: JSON as its text, anything else (not UTF-8, not JSON) as base64 with
 * `is_binary` set. The JSON text is kept exactly as sent, so values round-trip byte for byte.
 */
export function encodeSqliteValue(value: Buffer): { text: string; isBinary: boolean } {
  // Valid UTF-8 is exactly what decodes to text that encodes back to the same bytes.
  if (isUtf8(value)) {
    const text = value.toString('utf8');
    try {
      JSON.parse(text);
      return { text, isBinary: false };
    } catch {
      // not JSON: stored as binary below
    }
  }
  return { text: value.toString('base64'), isBinary: true };
}

function toItem(row: Row): StateItem {
  const raw = typeof row.value === 'string' ? row.value : row.value.toString('utf8');
  return {
    value: row.is_binary ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
    etag: row.etag,
    ...(row.expiration_time !== null ? { expiresAt: parseSqliteTimestamp(row.expiration_time) } : {}),
  };
}

/**
 * Moves a table in the layout early Weft releases used (`value BLOB`, `expires_at` in ms,
 * `content_type`, `updated_at`) into Dapr's layout, keeping every live row and its etag.
 */
function migrateEarlyWeftLayout(db: Database.Database, table: string): void {
  const columns = new Set(db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name));
  if (!columns.has('expires_at') || !columns.has('content_type') || columns.has('is_binary')) return;
  const old = `${table}_weft01`;
  db.exec(`ALTER TABLE ${table} RENAME TO ${old}`);
  db.exec(`DROP INDEX IF EXISTS ${table}_expires_at`);
  db.exec(`CREATE TABLE ${table} (
    key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, is_binary BOOLEAN NOT NULL, etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL, update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
  const insert = db.prepare(`INSERT INTO ${table} (key, value, is_binary, etag, expiration_time, update_time) VALUES (?, ?, ?, ?, ?, ?)`);
  const rows = db.prepare<[number], { key: string; value: Buffer; etag: string; expires_at: number | null; updated_at: number }>(
    `SELECT key, value, etag, expires_at, updated_at FROM ${old} WHERE expires_at IS NULL OR expires_at > ?`,
  );
  for (const row of rows.all(Date.now())) {
    const { text, isBinary } = encodeSqliteValue(Buffer.from(row.value));
    const expiry = row.expires_at !== null ? sqliteTimestamp(new Date(row.expires_at)) : null;
    insert.run(row.key, text, isBinary ? 1 : 0, row.etag, expiry, sqliteTimestamp(new Date(row.updated_at)));
  }
  db.exec(`DROP TABLE ${old}`);
}

/** Creates Dapr's state and metadata tables if missing and records Dapr's migration level. */
function ensureDaprSchema(db: Database.Database, table: string, metadataTable: string): void {
  db.transaction(() => {
    migrateEarlyWeftLayout(db, table);
    db.exec(`CREATE TABLE IF NOT EXISTS ${metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`);
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      key TEXT NOT NULL PRIMARY KEY,
      value TEXT NOT NULL,
      is_binary BOOLEAN NOT NULL,
      etag TEXT NOT NULL,
      expiration_time TIMESTAMP DEFAULT NULL,
      update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
    )`);
    const level = db.prepare<[], { value: string }>(`SELECT value FROM ${metadataTable} WHERE key = 'migrations'`).get();
    if (!level || Number(level.value) < DAPR_MIGRATION_LEVEL) {
      db.prepare(`REPLACE INTO ${metadataTable} (key, value) VALUES ('migrations', ?)`).run(String(DAPR_MIGRATION_LEVEL));
    }
    const columns = new Set(db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name));
    const missing = ['key', 'value', 'is_binary', 'etag', 'expiration_time', 'update_time'].filter((c) => !columns.has(c));
    if (missing.length > 0) {
      throw new Error(
        `table ${table} exists but lacks the columns ${missing.join(', ')} of Dapr's SQLite state layout ` +
          '(an older Weft layout?); set tableName to a new table or move the rows over',
      );
    }
  }).immediate();
}

/** SQLite state store with etags, TTL, transactions and the query API. */
export class SqliteStateStore implements TransactionalStateStore, BulkStateStore, QueryableStateStore, KeyListingStateStore {
  private db: Database.Database | undefined;
  private statements!: {
    get: Database.Statement<[string, string], Row>;
    upsert: Database.Statement<[string, string, number, string, string | null, string]>;
    delete: Database.Statement<[string]>;
    claimCleanup: Database.Statement<[number]>;
    cleanup: Database.Statement<[string]>;
    scan: Database.Statement<[number, string, string], Row>;
    page: Database.Statement<[string, number, string, string, number], Row>;
  };
  private cleanupTimer: NodeJS.Timeout | undefined;
  /**
   * Checkpoints off the event loop: a save here writes about five WAL pages (Dapr's layout is a rowid
   * table with a separate key index), so SQLite's own checkpoint would run inside every ~200th save,
   * copying and syncing a thousand pages while every request waits.
   */
  private checkpointer: WalCheckpointer | undefined;
  private applyAll!: (operations: readonly StateOperation[]) => void;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parseSqliteStateMetadata(props, context.dataDir);
    const db = openSqlite(meta.filePath, meta.busyTimeoutMs);
    const t = meta.tableName;
    try {
      ensureDaprSchema(db, t, meta.metadataTableName);
    } catch (err) {
      db.close();
      throw err;
    }
    const live = '(expiration_time IS NULL OR expiration_time > ?)';
    this.statements = {
      get: db.prepare(`SELECT key, value, is_binary, etag, expiration_time FROM ${t} WHERE key = ? AND ${live}`),
      upsert: db.prepare(
        `INSERT OR REPLACE INTO ${t} (key, value, is_binary, etag, expiration_time, update_time) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      delete: db.prepare(`DELETE FROM ${t} WHERE key = ?`),
      // Dapr's claim: one process per interval deletes expired rows.
      claimCleanup: db.prepare(
        `INSERT INTO ${meta.metadataTableName} (key, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
         ON CONFLICT (key) DO UPDATE SET value = CURRENT_TIMESTAMP
         WHERE (unixepoch(CURRENT_TIMESTAMP) - unixepoch(value)) * 1000 > ?`,
      ),
      cleanup: db.prepare(`DELETE FROM ${t} WHERE expiration_time IS NOT NULL AND expiration_time < ?`),
      scan: db.prepare(
        `SELECT key, value, is_binary, etag, expiration_time FROM ${t} WHERE substr(key, 1, ?) = ? AND ${live}`,
      ),
      // Walks the primary key from `after`: a page costs its own size, however large the table.
      page: db.prepare(
        `SELECT key, value, is_binary, etag, expiration_time FROM ${t}
         WHERE key > ? AND substr(key, 1, ?) = ? AND ${live} ORDER BY key LIMIT ?`,
      ),
    };
    const applyOne = (op: StateOperation, now: Date, nowText: string): void => {
      const request = op.request;
      // No format check, as Dapr's SQLite store: an etag that is not one of ours matches no row, so
      // it is a mismatch (409), never a bad request.
      if (needsCurrent(op)) {
        const row = this.statements.get.get(request.key, nowText);
        checkWrite(request.key, row ? toItem(row) : undefined, request);
      }
      if (op.type === 'delete') {
        this.statements.delete.run(request.key);
      } else {
        const expiresAt = expiryFromTtl(op.request.ttlSeconds, now.getTime());
        const { text, isBinary } = encodeSqliteValue(op.request.value);
        this.statements.upsert.run(request.key, text, isBinary ? 1 : 0, randomUUID(), expiresAt ? sqliteTimestamp(expiresAt) : null, nowText);
      }
    };
    const tx = db.transaction((operations: readonly StateOperation[]) => {
      const now = new Date();
      const nowText = sqliteTimestamp(now);
      for (const op of operations) applyOne(op, now, nowText);
    });
    this.applyAll = (operations) => {
      // One write that checks nothing is atomic on its own: no read of the current row, no BEGIN/COMMIT.
      const only = operations.length === 1 ? operations[0] : undefined;
      if (only && !needsCurrent(only)) {
        const now = new Date();
        applyOne(only, now, sqliteTimestamp(now));
      } else {
        tx.immediate(operations);
      }
      this.checkpointer?.wrote();
    };
    this.db = db;
    this.checkpointer = new WalCheckpointer(db, meta.filePath, context.logger, 'state store');
    if (meta.cleanupIntervalMs > 0) {
      const interval = meta.cleanupIntervalMs;
      this.cleanupTimer = setInterval(() => {
        try {
          if (this.statements.claimCleanup.run(Math.max(0, interval - 1000)).changes > 0) this.cleanupExpired();
        } catch (err) {
          context.logger.warn(`expired-row cleanup failed: ${(err as Error).message}`);
        }
      }, interval);
      this.cleanupTimer.unref();
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const row = this.statements.get.get(request.key, sqliteTimestamp(new Date()));
    return row ? toItem(row) : undefined;
  }

  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    const now = sqliteTimestamp(new Date());
    for (const key of keys) {
      const row = this.statements.get.get(key, now);
      if (row) found.set(key, toItem(row));
    }
    return found;
  }

  async set(request: StateSetRequest): Promise<void> {
    this.applyAll([{ type: 'upsert', request }]);
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    this.applyAll([{ type: 'delete', request }]);
  }

  async multi(operations: readonly StateOperation[]): Promise<void> {
    this.applyAll(operations);
  }

  async query(query: StateQuery, keyPrefix: string): Promise<StateQueryResult> {
    const rows = this.statements.scan.all(keyPrefix.length, keyPrefix, sqliteTimestamp(new Date()));
    return evaluateQuery(
      query,
      rows.map((r) => ({ key: r.key, value: toItem(r).value, etag: r.etag })),
    );
  }

  async listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]> {
    const after = request.after !== undefined && request.after >= request.prefix ? request.after : '';
    const rows = this.statements.page.all(after, request.prefix.length, request.prefix, sqliteTimestamp(new Date()), request.limit);
    return rows.map((r) => ({ key: r.key, item: toItem(r) }));
  }

  /** Deletes expired rows; reads already hide them, this only reclaims space. */
  cleanupExpired(): number {
    const deleted = this.statements.cleanup.run(sqliteTimestamp(new Date())).changes;
    if (deleted > 0) this.checkpointer?.wrote();
    return deleted;
  }

  async close(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    const checkpointer = this.checkpointer;
    this.checkpointer = undefined;
    await checkpointer?.close();
    this.db?.close();
    this.db = undefined;
  }
}
