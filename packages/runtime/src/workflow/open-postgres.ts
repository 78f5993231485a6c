/** Opens the Postgres workflow backend, loading `pg` only when it is actually used. */
import { postgresUrl } from '../util/postgres-connection.js';
import type { PostgresWorkflowBackend } from './postgres-backend.js';

/**
 * Connects to Postgres and creates the workflow tables if needed. `connectionString` may be a URL or
 * a `key=value` DSN, as for every Postgres component; the backend takes it as a URL.
 */
export async function openPostgresWorkflowBackend(connectionString: string, appId: string): Promise<PostgresWorkflowBackend> {
  const { PostgresWorkflowBackend: Backend } = await import('./postgres-backend.js');
  return Backend.open(postgresUrl(connectionString), appId);
}
