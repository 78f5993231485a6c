/**
 * Fills a Weft workflow store with finished instances before a run (the "100k" rows: throughput must
 * not depend on how much history the store holds). The schema comes from the runtime's own backend
 * classes; the rows go in with bulk SQL, as one transaction, so seeding 100,000 takes seconds.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresWorkflowBackend } from '../../packages/runtime/src/workflow/postgres-backend.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';

/** Three history events of a finished seq-like instance, as the store keeps them (JSON). */
function historyOf(id: string, at: number): string[] {
  const ts = { seconds: String(Math.floor(at / 1000)), nanos: (at % 1000) * 1e6 };
  return [
    JSON.stringify({ eventId: -1, timestamp: ts, executionStarted: { name: 'seq3', input: { value: '1' }, orchestrationInstance: { instanceId: id, executionId: { value: `x-${id}` } } } }),
    JSON.stringify({ eventId: 1, timestamp: ts, taskScheduled: { name: 'inc', input: { value: '1' } } }),
    JSON.stringify({ eventId: -1, timestamp: ts, executionCompleted: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: '4' } } }),
  ];
}

/** Seeds `count` COMPLETED instances (with history) of `appId` into the SQLite store at `file`. */
export async function seedSqlite(file: string, appId: string, count: number): Promise<void> {
  await new SqliteWorkflowBackend(file, appId).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const inst = db.prepare(
    `INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, input, output, created_at, updated_at)
     VALUES (?, ?, 'seq3', 'COMPLETED', ?, '1', '4', ?, ?)`,
  );
  const hist = db.prepare('INSERT INTO wf_history (app_id, instance_id, seq, event) VALUES (?, ?, ?, ?)');
  const base = Date.now() - count * 10;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = `seeded-${i}`;
      const at = base + i * 10;
      inst.run(appId, id, `x-${id}`, at, at + 5);
      historyOf(id, at).forEach((e, k) => hist.run(appId, id, k + 1, e));
    }
  })();
  db.close();
}

/** Seeds `count` COMPLETED instances (with history) of `appId` into the Postgres store. */
export async function seedPostgres(url: string, appId: string, count: number): Promise<void> {
  await (await PostgresWorkflowBackend.open(url, appId)).close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const base = Date.now() - count * 10;
    const [e1, e2, e3] = historyOf('ID', base).map((e) => e.replace(/"ID"/g, '"%s"'));
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO weft_wf_instances (app_id, instance_id, name, status, execution_id, input, output, created_at, updated_at)
       SELECT $1, 'seeded-' || i, 'seq3', 'COMPLETED', 'x-seeded-' || i, '1', '4', $2::bigint + i * 10, $2::bigint + i * 10 + 5 FROM generate_series(0, $3::int - 1) AS i`,
      [appId, base, count],
    );
    await client.query(
      `INSERT INTO weft_wf_history (app_id, instance_id, seq, event)
       SELECT $1, 'seeded-' || i, k, format(CASE k WHEN 1 THEN $2 WHEN 2 THEN $3 ELSE $4 END, 'seeded-' || i)
       FROM generate_series(0, $5 - 1) AS i, generate_series(1, 3) AS k`,
      [appId, e1, e2, e3, count],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE weft_wf_instances');
    await client.query('ANALYZE weft_wf_history');
  } finally {
    await client.end();
  }
}
