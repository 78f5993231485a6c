/**
 * A key=value DSN opens every Postgres user Weft has, not only the state store: the jobs store and
 * the workflow engine's backend (which once resolved the DSN's first word as a host: ENOTFOUND base).
 */
import { describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { PostgresJobStore } from '../jobs/postgres-job-store.js';
import { openPostgresWorkflowBackend } from '../workflow/open-postgres.js';

const run = await requireService(SERVICES.postgres, 'Postgres DSN connection settings');

/** The test database's settings in key=value form. */
function dsn(): string {
  const url = new URL(POSTGRES_URL);
  const parts = [`host=${url.hostname}`, `port=${url.port || 5432}`, `user=${decodeURIComponent(url.username)}`, `dbname=${url.pathname.slice(1)}`];
  if (url.password) parts.push(`password='${decodeURIComponent(url.password)}'`);
  return parts.join(' ');
}

describe.skipIf(!run)('key=value DSN', () => {
  it('opens the jobs store', async () => {
    const store = await PostgresJobStore.open(dsn());
    await store.close();
  });

  it('opens the workflow backend', async () => {
    const backend = await openPostgresWorkflowBackend(dsn(), `dsn-${process.pid}`);
    expect((await backend.listInstances({}, 1)).instances).toEqual([]);
    await backend.close();
  }, 60_000);
});
