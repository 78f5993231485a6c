/**
 * Each service owns its data: an embedded SQLite file by default (shared by the service's API app
 * and worker, which run on one machine), Postgres in production (`DATABASE_URL=postgres://…`). The
 * same Kysely queries and migrations run on both.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, sql } from 'kysely';
import type { DatabaseConnection, Migration, MigrationProvider, SqliteDialectConfig } from 'kysely';
import pg from 'pg';

/**
 * SQLite transactions start with `BEGIN IMMEDIATE`: the API and the worker write the same file, and a
 * deferred transaction that reads and then writes fails at once with SQLITE_BUSY instead of waiting.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/** Where a service's database is. */
export interface DatabaseOptions {
  /** `order`, `fulfillment` or `warehouse`: the SQLite file name and the Postgres migration table. */
  service: string;
  /** `postgres://…`, or undefined for the embedded SQLite file. */
  url: string | undefined;
  /** Directory of the SQLite file. */
  dataDir: string;
  /** Postgres only: the schema the service's tables live in (created if missing). @default the server's search_path */
  schema?: string | undefined;
}

/** The SQLite file behind a Kysely instance, for the migration lock. */
const sqliteFiles = new WeakMap<object, string>();
/** The Postgres schema of a Kysely instance, created before migrating. */
const pgSchemas = new WeakMap<object, string>();

/** Opens the service's database (creating the SQLite file and its directory when needed). */
export function openDatabase<DB>(options: DatabaseOptions): Kysely<DB> {
  if (options.url && /^postgres(ql)?:\/\//.test(options.url)) {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`DATABASE_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
    const pool = new pg.Pool({ connectionString: options.url, max: 10, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    if (schema) pgSchemas.set(db, schema);
    return db;
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, `${options.service}.sqlite`);
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  sqliteFiles.set(db, file);
  return db;
}

/** Tables every service has: consumed-event ledger, transactional outbox, parked dead letters. */
export interface EventTables {
  processed_events: { consumer: string; event_id: string; topic: string; processed_at: string };
  outbox: { event_id: string; topic: string; payload: string; created_at: string; attempts: number; claimed_until: string | null };
  dead_letters: { id: string; topic: string; payload: string; received_at: string };
}

/** The migration that creates {@link EventTables}; every service lists it first. */
export const eventTablesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('processed_events')
      .addColumn('consumer', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('processed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('processed_events_pk', ['consumer', 'event_id'])
      .execute();
    await db.schema
      .createTable('outbox')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('claimed_until', 'text')
      .execute();
    await db.schema.createIndex('outbox_created_at').on('outbox').column('created_at').execute();
    await db.schema
      .createTable('dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Runs `fn` holding `<file>.migrate.lock`. Kysely's SQLite adapter takes no lock (it assumes one
 * process), but the API and the worker of a service start together on one file.
 */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.migrate.lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a process killed mid-migration goes stale after a minute.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) fs.rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`could not take the migration lock ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Applies `migrations` (names sort in order) and throws with the failing one's name. */
export async function migrate(db: Kysely<unknown>, service: string, migrations: Record<string, Migration>): Promise<void> {
  const schema = pgSchemas.get(db);
  if (schema) {
    // Two apps of a service may race here; Postgres reports the loser as a duplicate.
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db).catch((err: { code?: string }) => {
      if (err.code !== '23505' && err.code !== '42P06') throw err;
    });
  }
  const file = sqliteFiles.get(db);
  if (file) return withFileLock(file, () => migrateUnlocked(db, service, migrations));
  return migrateUnlocked(db, service, migrations);
}

async function migrateUnlocked(db: Kysely<unknown>, service: string, migrations: Record<string, Migration>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };
  // One migration table per service, so several services may share a Postgres database.
  const migrator = new Migrator({ db, provider, migrationTableName: `${service}_migrations`, migrationLockTableName: `${service}_migrations_lock` });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) throw new Error(`migration ${failed?.migrationName ?? '(setup)'} of ${service} failed: ${(error as Error).message}`, { cause: error });
}

/** Current time as stored (ISO-8601 text sorts chronologically on both databases). */
export const now = (): string => new Date().toISOString();

/** `SELECT 1`, for health checks. */
export async function ping(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
