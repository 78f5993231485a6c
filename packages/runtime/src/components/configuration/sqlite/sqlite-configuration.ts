/**
 * `configuration.sqlite`: the embedded configuration store. Items are rows of a table with the layout
 * of Dapr's PostgreSQL configuration store (`key` primary key, `value`, `version`, `metadata` as JSON
 * text) in a WAL-mode SQLite file; write them with any SQLite client, from any process.
 *
 * SQLite has no notifications, so triggers on the table append every change to `<table>_changes`
 * (a sequence number and the key) and the store polls that log (`pollInterval`, default 200ms) for
 * rows past the last it saw: changes made by any process are delivered in commit order, none is
 * missed between polls. The log is trimmed to its last 10 000 rows.
 *
 * Metadata: `connectionString` (the file), `tableName` (default `configuration`), `pollInterval`,
 * `busyTimeout` (default 2s).
 */
import type Database from 'better-sqlite3';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readDurationMs } from '../../metadata.js';
import type { Logger } from '../../../logging/logger.js';
import { readSqlIdentifier, readSqliteFile } from '../../sqlite-file.js';
import { openSqlite } from '../../../util/open-sqlite.js';
import type { ConfigurationChangeHandler, ConfigurationItem, ConfigurationRequest, ConfigurationStore, ConfigurationWatch } from '../store.js';
import { DELETED_ITEM } from '../store.js';

const KEEP_CHANGES = 10_000;

interface Row {
  key: string;
  value: string;
  version: string;
  metadata: string | null;
}

interface Watcher {
  keys: ReadonlySet<string>;
  onChange: ConfigurationChangeHandler;
}

function metadataOf(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  } catch {
    return {};
  }
}

/** The DDL of the items table, its change log and the triggers that fill the log. */
export function configurationSchema(table: string): string {
  const log = `${table}_changes`;
  return `
    CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, version TEXT NOT NULL DEFAULT '', metadata TEXT);
    CREATE TABLE IF NOT EXISTS ${log} (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS ${table}_inserted AFTER INSERT ON ${table} BEGIN INSERT INTO ${log} (key) VALUES (NEW.key); END;
    CREATE TRIGGER IF NOT EXISTS ${table}_updated AFTER UPDATE ON ${table} BEGIN
      INSERT INTO ${log} (key) VALUES (NEW.key);
      INSERT INTO ${log} (key) SELECT OLD.key WHERE OLD.key <> NEW.key;
    END;
    CREATE TRIGGER IF NOT EXISTS ${table}_deleted AFTER DELETE ON ${table} BEGIN INSERT INTO ${log} (key) VALUES (OLD.key); END;`;
}

/** SQLite configuration store. */
export class SqliteConfigurationStore implements ConfigurationStore {
  private db: Database.Database | undefined;
  private table = 'configuration';
  private logger: Logger | undefined;
  private pollMs = 200;
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<Watcher>();
  private polls = 0;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const file = readSqliteFile(props, context.dataDir);
    this.table = readSqlIdentifier(props, 'tableName', 'configuration');
    this.pollMs = readDurationMs(props, 'pollInterval', 200, 1);
    if (this.pollMs <= 0) throw new MetadataError('pollInterval', 'must be a positive duration');
    this.logger = context.logger;
    const db = openSqlite(file, readDurationMs(props, 'busyTimeout', 2000));
    this.db = db;
    db.exec(configurationSchema(this.table));
  }

  async get(request: ConfigurationRequest): Promise<Record<string, ConfigurationItem>> {
    const db = this.database();
    const select = `SELECT key, value, version, metadata FROM ${this.table}`;
    const rows =
      request.keys.length === 0
        ? db.prepare<[], Row>(select).all()
        : db.prepare<string[], Row>(`${select} WHERE key IN (${request.keys.map(() => '?').join(', ')})`).all(...request.keys);
    const items: Record<string, ConfigurationItem> = {};
    for (const row of rows) items[row.key] = { value: row.value, version: row.version, metadata: metadataOf(row.metadata) };
    return items;
  }

  async watch(request: ConfigurationRequest, onChange: ConfigurationChangeHandler): Promise<ConfigurationWatch> {
    if (this.watchers.size === 0) {
      // From now on: changes made before the watch are in the caller's first read.
      this.lastSeq = this.maxSeq();
      this.timer = setInterval(() => this.poll(), this.pollMs);
      this.timer.unref();
    }
    const watcher: Watcher = { keys: new Set(request.keys), onChange };
    this.watchers.add(watcher);
    return {
      close: async () => {
        this.watchers.delete(watcher);
        if (this.watchers.size === 0) this.stopPolling();
      },
    };
  }

  async close(): Promise<void> {
    this.watchers.clear();
    this.stopPolling();
    this.db?.close();
    this.db = undefined;
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private maxSeq(): number {
    const row = this.database().prepare<[], { seq: number | null }>(`SELECT max(seq) AS seq FROM ${this.table}_changes`).get();
    return row?.seq ?? 0;
  }

  /** Reads the log past the last sequence seen and tells each watcher about its keys. */
  private poll(): void {
    if (!this.db || this.watchers.size === 0) return;
    try {
      const changes = this.db
        .prepare<[number], { seq: number; key: string }>(`SELECT seq, key FROM ${this.table}_changes WHERE seq > ? ORDER BY seq`)
        .all(this.lastSeq);
      if (changes.length === 0) return;
      this.lastSeq = changes.at(-1)?.seq ?? this.lastSeq;
      const keys = [...new Set(changes.map((c) => c.key))];
      const current = this.getSync(keys);
      for (const watcher of this.watchers) {
        const items: Record<string, ConfigurationItem> = {};
        for (const key of keys) if (watcher.keys.size === 0 || watcher.keys.has(key)) items[key] = current[key] ?? DELETED_ITEM;
        if (Object.keys(items).length > 0) watcher.onChange(items);
      }
      if (++this.polls % 100 === 0) this.db.prepare(`DELETE FROM ${this.table}_changes WHERE seq <= ?`).run(this.lastSeq - KEEP_CHANGES);
    } catch (err) {
      this.logger?.warn(`configuration.sqlite: reading changes failed: ${(err as Error).message}`);
    }
  }

  private getSync(keys: readonly string[]): Record<string, ConfigurationItem> {
    const rows = this.database()
      .prepare<string[], Row>(`SELECT key, value, version, metadata FROM ${this.table} WHERE key IN (${keys.map(() => '?').join(', ')})`)
      .all(...keys);
    return Object.fromEntries(rows.map((row) => [row.key, { value: row.value, version: row.version, metadata: metadataOf(row.metadata) }]));
  }

  private database(): Database.Database {
    if (!this.db) throw new Error('configuration.sqlite is not initialised');
    return this.db;
  }
}
