/**
 * Opening a `pg` pool for a Postgres component the same way every time: the connection string in
 * either form, a statement timeout, an `application_name` naming the app, idle-connection errors
 * logged instead of crashing the process, and a first query that fails init with where it tried.
 */
import pg from 'pg';
import type { Pool } from 'pg';
import type { ComponentContext } from './component.js';
import type { MetadataProperties } from './metadata.js';
import { readDurationMs, requireString } from './metadata.js';
import { describePostgresTarget, parsePostgresConnection } from '../util/postgres-connection.js';
import { describeNetworkError } from '../util/network-error.js';

/** Connection settings shared by Weft's Postgres components. */
export interface PostgresPoolSettings {
  connection: pg.ClientConfig;
  /** Timeout of each statement and of connecting. @default 20000 */
  timeoutMs: number;
}

/** Reads `connectionString` and `timeout` (Dapr's names; `timeoutInSeconds` as the older spelling). */
export function readPostgresSettings(props: MetadataProperties): PostgresPoolSettings {
  return {
    connection: parsePostgresConnection(requireString(props, 'connectionString')),
    timeoutMs: readDurationMs(props, 'timeout', readDurationMs(props, 'timeoutInSeconds', 20_000)),
  };
}

/** A connected pool; `prepare` runs first (schema set-up) and init fails with a clear reason. */
export async function openPostgresPool(settings: PostgresPoolSettings, context: ComponentContext, what: string, prepare: (pool: Pool) => Promise<void>): Promise<Pool> {
  const pool = new pg.Pool({
    ...settings.connection,
    max: 10,
    statement_timeout: settings.timeoutMs,
    connectionTimeoutMillis: settings.connection.connectionTimeoutMillis ?? settings.timeoutMs,
    application_name: settings.connection.application_name ?? `weft-${context.appId}`,
  });
  pool.on('error', (err) => context.logger.warn(`postgres idle connection error: ${err.message}`));
  try {
    await prepare(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    const code = (err as { code?: string }).code ?? '';
    const reason = /^E[A-Z]+$/.test(code) || /timeout/i.test((err as Error).message)
      ? `cannot reach Postgres at ${describePostgresTarget(settings.connection)}: ${describeNetworkError(err)}`
      : (err as Error).message;
    throw new Error(`${what}: ${reason}`);
  }
  return pool;
}

/**
 * Runs DDL under a transaction-scoped advisory lock, so sidecars starting together do not race on
 * `CREATE ... IF NOT EXISTS` (which can fail with a duplicate catalog entry when run concurrently).
 */
export async function withDdlLock(pool: Pool, lockName: string, ddl: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockName]);
    await ddl(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A `name` or `schema.name` identifier, each part checked. */
export const QUALIFIED_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
