/**
 * The task database: PostgreSQL through Kysely. `DATABASE_URL` selects a real server (production);
 * without it the backend runs on embedded PGlite in `PGLITE_DATA_DIR` (default `./.data/pglite`), so
 * the one-command start needs nothing installed. Migrations are versioned files applied by Kysely's
 * Migrator at start-up.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import type { ColumnType, Generated, Migration, MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Recurrence } from '../shared/events.js';
import * as m001 from './migrations/001_create_tasks.js';
import * as m002 from './migrations/002_outbox_and_reminders.js';
import * as m003 from './migrations/003_next_occurrence.js';
import { PGliteDialect } from './pglite-dialect.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** The `tasks` table. */
export interface TasksTable {
  id: string;
  user_id: string;
  title: string;
  description: string | null;
  status: 'pending' | 'in_progress' | 'completed';
  priority: 'low' | 'medium' | 'high';
  tags: ColumnType<string[], string, string>;
  due_at: Timestamp | null;
  remind_at: Timestamp | null;
  reminder_sent_at: Timestamp | null;
  recurrence: ColumnType<Recurrence | null, string | null, string | null>;
  recurrence_parent_id: string | null;
  /** The occurrence this task's completion created (recurring tasks). */
  next_occurrence_id: Generated<string | null>;
  completed_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** The `outbox_events` table. */
export interface OutboxTable {
  id: string;
  seq: Generated<string>;
  topic: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  published_at: Timestamp | null;
}

/** The schema Kysely types queries against. */
export interface Database {
  tasks: TasksTable;
  outbox_events: OutboxTable;
}

/** Migrations in order; the names are their versions. */
const MIGRATIONS: Record<string, Migration> = {
  '001_create_tasks': m001,
  '002_outbox_and_reminders': m002,
  '003_next_occurrence': m003,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/** Opens the database and applies pending migrations. */
export async function openDatabase(options: { url?: string; dataDir?: string } = {}): Promise<Kysely<Database>> {
  const url = options.url ?? process.env['DATABASE_URL'];
  let db: Kysely<Database>;
  if (url) {
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
  } else {
    const dataDir = options.dataDir ?? process.env['PGLITE_DATA_DIR'] ?? './.data/pglite';
    mkdirSync(dataDir, { recursive: true });
    db = new Kysely<Database>({ dialect: new PGliteDialect(new PGlite(dataDir)) });
  }
  await migrate(db);
  return db;
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).map((r) => r.migrationName);
}
