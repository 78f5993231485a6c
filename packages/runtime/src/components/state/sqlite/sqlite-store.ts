/**
 * `state.sqlite`: the embedded default. One WAL-mode file in `./.weft/` that several Weft processes on
 * one machine share safely: writes take SQLite's write lock up front (`BEGIN IMMEDIATE`), so an etag
 * check and the write it guards cannot interleave with another process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { assertUuidEtag, checkWrite, expiryFromTtl } from '../etag.js';
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

interface Row {
  key: string;
  value: Buffer;
  etag: string;
  expires_at: number | null;
  content_type: string | null;
}

/** Opens a SQLite database the way every embedded Weft store does (WAL, busy timeout, normal sync). */
export function openSqlite(filePath: string, busyTimeoutMs: number): Database.Database {
  if (filePath !== ':memory:') fs.mkdirSync(path.dirname(filePath), { recursive: true });
  const db = new Database(filePath, { timeout: busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL is durable against process crashes; only an OS crash can lose the last commits.
  db.pragma('synchronous = NORMAL');
  return db;
}

function toItem(row: Row): StateItem {
  return {
    value: row.value,
    etag: row.etag,
    ...(row.expires_at !== null ? { expiresAt: new Date(row.expires_at) } : {}),
    ...(row.content_type ? { contentType: row.content_type } : {}),
  };
}

/** SQLite state store with etags, TTL, transactions and the query API. */
export class SqliteStateStore implements TransactionalStateStore, BulkStateStore, QueryableStateStore, KeyListingStateStore {
  private db: Database.Database | undefined;
  private statements!: {
    get: Database.Statement<[string, number], Row>;
    upsert: Database.Statement<[string, Buffer, string, number | null, string | null, number]>;
    delete: Database.Statement<[string]>;
    cleanup: Database.Statement<[number]>;
    scan: Database.Statement<[number, string, number], Row>;
    page: Database.Statement<[string, number, string, number, number], Row>;
  };
  private cleanupTimer: NodeJS.Timeout | undefined;
  private applyAll!: (operations: readonly StateOperation[]) => void;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parseSqliteStateMetadata(props, context.dataDir);
    const db = openSqlite(meta.filePath, meta.busyTimeoutMs);
    const t = meta.tableName;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
      key TEXT PRIMARY KEY NOT NULL,
      value BLOB NOT NULL,
      etag TEXT NOT NULL,
      expires_at INTEGER,
      content_type TEXT,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    db.exec(`CREATE INDEX IF NOT EXISTS ${t}_expires_at ON ${t} (expires_at) WHERE expires_at IS NOT NULL`);
    this.statements = {
      get: db.prepare(`SELECT key, value, etag, expires_at, content_type FROM ${t} WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`),
      upsert: db.prepare(
        `INSERT INTO ${t} (key, value, etag, expires_at, content_type, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag,
           expires_at = excluded.expires_at, content_type = excluded.content_type, updated_at = excluded.updated_at`,
      ),
      delete: db.prepare(`DELETE FROM ${t} WHERE key = ?`),
      cleanup: db.prepare(`DELETE FROM ${t} WHERE expires_at IS NOT NULL AND expires_at <= ?`),
      scan: db.prepare(
        `SELECT key, value, etag, expires_at, content_type FROM ${t}
         WHERE substr(key, 1, ?) = ? AND (expires_at IS NULL OR expires_at > ?)`,
      ),
      // Walks the primary key from `after`: a page costs its own size, however large the table.
      page: db.prepare(
        `SELECT key, value, etag, expires_at, content_type FROM ${t}
         WHERE key > ? AND substr(key, 1, ?) = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
      ),
    };
    const tx = db.transaction((operations: readonly StateOperation[]) => {
      const now = Date.now();
      for (const op of operations) {
        const request = op.request;
        assertUuidEtag(request.etag);
        const row = this.statements.get.get(request.key, now);
        checkWrite(request.key, row ? toItem(row) : undefined, request);
        if (op.type === 'delete') {
          this.statements.delete.run(request.key);
        } else {
          const expiresAt = expiryFromTtl(op.request.ttlSeconds, now);
          this.statements.upsert.run(
            request.key,
            op.request.value,
            randomUUID(),
            expiresAt ? expiresAt.getTime() : null,
            op.request.contentType ?? null,
            now,
          );
        }
      }
    });
    this.applyAll = (operations) => tx.immediate(operations);
    this.db = db;
    if (meta.cleanupIntervalMs > 0) {
      this.cleanupTimer = setInterval(() => this.cleanupExpired(), meta.cleanupIntervalMs);
      this.cleanupTimer.unref();
    }
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const row = this.statements.get.get(request.key, Date.now());
    return row ? toItem(row) : undefined;
  }

  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    const now = Date.now();
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
    const rows = this.statements.scan.all(keyPrefix.length, keyPrefix, Date.now());
    return evaluateQuery(
      query,
      rows.map((r) => ({ key: r.key, value: r.value, etag: r.etag })),
    );
  }

  async listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]> {
    const after = request.after !== undefined && request.after >= request.prefix ? request.after : '';
    const rows = this.statements.page.all(after, request.prefix.length, request.prefix, Date.now(), request.limit);
    return rows.map((r) => ({ key: r.key, item: toItem(r) }));
  }

  /** Deletes expired rows; reads already hide them, this only reclaims space. */
  cleanupExpired(): number {
    return this.statements.cleanup.run(Date.now()).changes;
  }

  async close(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    this.db?.close();
    this.db = undefined;
  }
}
