/**
 * Versioned migrations with Kysely's Migrator: the files in `migrations/` are applied in name order
 * and recorded in `kysely_migration` (inside `DATABASE_SCHEMA`), each in its own transaction, under
 * a lock so that replicas starting together do not race. Run at start-up and by `npm run migrate`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator } from 'kysely';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './schema.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Brings the schema to the latest version; throws (naming the migration) when one fails. */
export async function migrateToLatest(db: Kysely<Database>, schema: string, logger?: Logger): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
    migrationTableSchema: schema,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  for (const r of results) {
    if (r.status === 'Success') logger?.info({ migration: r.migrationName }, 'migration applied');
    else if (r.status === 'Error') logger?.error({ migration: r.migrationName }, 'migration failed');
  }
  if (error) throw new Error(`database migration failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
