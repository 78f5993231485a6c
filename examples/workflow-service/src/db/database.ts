/**
 * Opens the database: PostgreSQL through `pg` when `DATABASE_URL` is set, otherwise an embedded
 * PGlite in a local folder. Both are Postgres, so the same migrations and queries run on either.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import type { Logger } from 'pino';
import pg from 'pg';
import type { Config } from '../config.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

/** An open database and how to describe it in logs. */
export interface OpenDatabase {
  db: Kysely<Database>;
  /** `postgres (host/db, schema s)` or `embedded PGlite (folder)`: for the start-up banner. */
  description: string;
}

/** Opens the configured database. Tables live in `DATABASE_SCHEMA` (set as the search path). */
export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_SCHEMA' | 'PGLITE_DATA_DIR'>, logger?: Logger): Promise<OpenDatabase> {
  const schema = config.DATABASE_SCHEMA;
  if (config.DATABASE_URL) {
    const url = new URL(config.DATABASE_URL);
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10, options: `-c search_path=${schema}` });
    pool.on('error', (err) => logger?.error({ err }, 'idle Postgres connection failed'));
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), description: `postgres ${url.host}${url.pathname} (schema ${schema})` };
  }
  // Loaded only on the embedded path: production never pays for the WebAssembly module.
  const { PGlite } = await import('@electric-sql/pglite');
  const inMemory = config.PGLITE_DATA_DIR.startsWith('memory://');
  const dataDir = inMemory ? config.PGLITE_DATA_DIR : path.resolve(config.PGLITE_DATA_DIR);
  if (!inMemory) await fs.mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  // One session: setting the search path once covers every query (the Migrator creates the schema).
  await pglite.exec(`set search_path to ${schema}`);
  return { db: new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), description: `embedded PGlite (${dataDir}, schema ${schema})` };
}
