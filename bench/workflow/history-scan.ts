/**
 * The "flat as history grows" check, independent of how busy the machine is: times the queries the
 * engine runs all the time besides steps (the next wake-up, the stuck scan, a first list page, a
 * bounded retention batch that finds nothing to purge) on an empty store and on one with 100,000
 * finished instances, on both backends, through the runtime's own backend classes. Prints a table
 * and writes `history-scan.json` (committed with a run of the backends before the indexes beside it, as `beforeIndexes`).
 *
 *   npx tsx bench/workflow/history-scan.ts [--count 100000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { WorkflowBackend } from '../../packages/runtime/src/workflow/backend.js';
import { PostgresWorkflowBackend } from '../../packages/runtime/src/workflow/postgres-backend.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';
import { seedPostgres, seedSqlite } from './seed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { count: { type: 'string', default: '100000' }, repeat: { type: 'string', default: '50' } } });
const count = Number(values.count);
const repeat = Number(values.repeat);
const postgresUrl = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Median milliseconds of `repeat` calls. */
async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[Math.floor(times.length / 2)] ?? 0) * 1000) / 1000;
}

async function timeQueries(backend: WorkflowBackend): Promise<Record<string, number>> {
  const now = new Date();
  return {
    nextWakeAt: await median(() => backend.nextWakeAt(now)),
    stuckScan: await median(() => backend.idleWithPendingWork(new Date(now.getTime() - 300_000), now)),
    listFirstPage: await median(() => backend.listInstances({}, 100)),
    retentionBatch: await median(() => backend.purgeWhere({ updatedTo: new Date(0) }, 200)),
  };
}

async function main(): Promise<void> {
  const rows: { backend: string; store: string; ms: Record<string, number> }[] = [];
  const plans: Record<string, string> = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-history-scan-'));
  for (const store of ['empty', `${count} finished`]) {
    const n = store === 'empty' ? 0 : count;
    const appId = `scan-${Math.random().toString(36).slice(2, 8)}`;
    const file = path.join(dir, `${appId}.sqlite`);
    if (n) await seedSqlite(file, appId, n);
    const sqlite = new SqliteWorkflowBackend(file, appId);
    rows.push({ backend: 'sqlite', store, ms: await timeQueries(sqlite) });
    await sqlite.close();
    if (n) await seedPostgres(postgresUrl, appId, n);
    const postgres = await PostgresWorkflowBackend.open(postgresUrl, appId);
    rows.push({ backend: 'postgres', store, ms: await timeQueries(postgres) });
    await postgres.close();
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: postgresUrl });
    await c.connect();
    if (n) {
      // How Postgres serves the two hot scans with the store full (timings alone are noisy on a shared machine).
      const t = Date.now();
      for (const [name, sql] of [
        ['nextWakeAt (instance leases)', `SELECT MIN(lock_expires_at) FROM weft_wf_instances WHERE app_id = $1 AND lock_expires_at > ${t}`],
        ['stuck scan', `SELECT instance_id FROM weft_wf_instances WHERE app_id = $1 AND status IN ('PENDING', 'RUNNING') AND updated_at <= ${t}`],
      ] as const) {
        const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [appId]);
        plans[name] = plan.rows.map((r) => r['QUERY PLAN']).join(' / ');
      }
    }
    for (const t of ['weft_wf_instances', 'weft_wf_history']) await c.query(`DELETE FROM ${t} WHERE app_id = $1`, [appId]);
    await c.end();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  const lines = [`Median ms of ${repeat} calls; load average at the end ${load}.`, '', '| backend | store | nextWakeAt | stuck scan | list first page | retention batch |', '|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.backend} | ${r.store} | ${r.ms['nextWakeAt']} | ${r.ms['stuckScan']} | ${r.ms['listFirstPage']} | ${r.ms['retentionBatch']} |`);
  lines.push('', 'Postgres plans with the store full:', ...Object.entries(plans).map(([k, v]) => `- ${k}: ${v}`));
  process.stdout.write(lines.join('\n') + '\n');
  fs.writeFileSync(path.join(here, 'history-scan.json'), JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), count, repeat, rows, plans }, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
