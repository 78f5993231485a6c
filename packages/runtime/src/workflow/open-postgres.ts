/** Opens the Postgres workflow backend, loading `pg` only when it is actually used. */
import type { PostgresWorkflowBackend } from './postgres-backend.js';

/** Connects to Postgres and creates the workflow tables if needed. */
export async function openPostgresWorkflowBackend(connectionString: string, appId: string): Promise<PostgresWorkflowBackend> {
  const { PostgresWorkflowBackend: Backend } = await import('./postgres-backend.js');
  return Backend.open(connectionString, appId);
}
