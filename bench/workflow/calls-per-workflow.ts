/**
 * Store calls per workflow, independent of how busy the machine is: runs seq3 and fan10 through the
 * engine in process with a scripted worker (the answers `@dapr/dapr` would give) and counts the
 * backend calls each workflow costs, by method, on SQLite (and Postgres with `--postgres`, Redis with
 * `--redis`: there every call is one round trip, one Lua script for each change), the SQL statements
 * they ran, and the orchestrator dispatches (with the past events they re-sent).
 *
 *   npx tsx bench/workflow/calls-per-workflow.ts [--count 200] [--postgres] [--redis] [--coalesce-ms 20] [--per-stream 100]
 *
 * `--coalesce-ms 0 --per-stream 10` is the engine before fan-out coalescing (with batched claims).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../packages/runtime/src/logging/logger.js';
import type { WorkflowBackend } from '../../packages/runtime/src/workflow/backend.js';
import type { WorkItemMessage } from '../../packages/runtime/src/workflow/dispatcher.js';
import { WorkflowEngine } from '../../packages/runtime/src/workflow/engine.js';
import type { OrchestratorResult } from '../../packages/runtime/src/workflow/step.js';
import { PostgresWorkflowBackend } from '../../packages/runtime/src/workflow/postgres-backend.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../test/support/redis-workflows.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    postgres: { type: 'boolean', default: false },
    redis: { type: 'boolean', default: false },
    'coalesce-ms': { type: 'string' },
    'per-stream': { type: 'string' },
  },
});
const count = Number(values.count);

function counting(backend: WorkflowBackend, calls: Map<string, number>): WorkflowBackend {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const results: (() => void)[] = [];
function answerNext(): void {
  results.shift()?.();
  if (results.length > 0) setImmediate(answerNext);
}

/** Scripted worker: seq3 schedules one `inc` at a time; fan10 schedules ten `part`s, then completes. */
function answer(e: WorkflowEngine, item: WorkItemMessage, workload: 'seq3' | 'fan10'): void {
  if ('activityRequest' in item) {
    const r = item.activityRequest;
    // One result per turn of the event loop, in the order sent: a fan-out's results arrive one by one,
    // with the sidecar's own work in between, as from a real worker (never all in one turn).
    results.push(() => void e.completeActivity({ instanceId: r.orchestrationInstance.instanceId, taskId: r.taskId, result: String(Number(r.input?.value ?? '0') + 1), failure: null }));
    if (results.length === 1) setImmediate(answerNext);
    return;
  }
  const o = item.orchestratorRequest;
  const events = [...o.pastEvents, ...o.newEvents];
  const scheduled = events.filter((ev) => ev.taskScheduled).length;
  const done = events.filter((ev) => ev.taskCompleted).length;
  const want = workload === 'seq3' ? 3 : 10;
  let actions: OrchestratorResult['actions'];
  if (done === want) actions = [{ id: want + 1, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED' as const, result: { value: '1' } } }];
  else if (workload === 'seq3' && scheduled === done) actions = [{ id: scheduled + 1, scheduleTask: { name: 'inc', input: { value: String(done) } } }];
  else if (workload === 'fan10' && scheduled === 0) actions = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, scheduleTask: { name: 'part', input: { value: String(i) } } }));
  else actions = [];
  setImmediate(() => void e.completeOrchestration(o.instanceId, { actions, customStatus: null }));
}

/** Counts SQL statements run by the backend: SQLite statements' run/get/all, Postgres queries. */
function countStatements(backend: WorkflowBackend, counter: { n: number }): void {
  const inner = backend as unknown as { db?: { prepare: (sql: string) => Record<string, unknown> }; pool?: Record<string, unknown> };
  if (inner.db) {
    const prepare = inner.db.prepare.bind(inner.db);
    inner.db.prepare = (sql: string) => {
      const statement = prepare(sql);
      for (const m of ['run', 'get', 'all']) {
        const f = statement[m] as (...a: unknown[]) => unknown;
        statement[m] = (...a: unknown[]) => {
          counter.n += 1;
          return f.apply(statement, a);
        };
      }
      return statement;
    };
  }
  const pool = inner.pool as { query: (...a: unknown[]) => unknown; connect: () => Promise<{ query: (...a: unknown[]) => unknown }>; on: (e: string, f: (c: { query: (...a: unknown[]) => unknown }) => void) => void } | undefined;
  if (pool) {
    // Every client the pool hands out (pool.query uses one too) counts its queries.
    pool.on('connect', (client) => {
      const query = client.query.bind(client);
      client.query = (...a: unknown[]) => {
        counter.n += 1;
        return query(...a);
      };
    });
  }
}

async function measure(name: string, open: () => Promise<WorkflowBackend>): Promise<void> {
  for (const workload of ['seq3', 'fan10'] as const) {
    const calls = new Map<string, number>();
    const statements = { n: 0 };
    const backend = await open();
    countStatements(backend, statements);
    const e = new WorkflowEngine({
      backend: counting(backend, calls),
      logger: silentLogger(),
      ...(values['coalesce-ms'] !== undefined ? { coalesceMs: Number(values['coalesce-ms']) } : {}),
      ...(values['per-stream'] !== undefined ? { maxPerStream: Number(values['per-stream']) } : {}),
    });
    e.connect((item) => answer(e, item, workload), () => undefined);
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const id = await e.start({ instanceId: `${workload}-${i}`, name: workload, input: '0' });
        await e.waitFor(id, (x) => x.status === 'COMPLETED');
      }),
    );
    const stats = { ...e.dispatchStats };
    // getInstance (one statement) serves the waits for completion, not the workflow.
    const statementsRun = statements.n - (calls.get('getInstance') ?? 0);
    await e.close();
    const per = [...calls].filter(([k]) => !['getInstance', 'close', 'renewLeases', 'idleWithPendingWork'].includes(k)).sort();
    const total = per.reduce((a, [, v]) => a + v, 0);
    const f = (n: number) => (n / count).toFixed(1);
    process.stdout.write(
      `${name} ${workload}: ${f(total)} store calls/workflow — ${per.map(([k, v]) => `${k} ${f(v)}`).join(', ')}\n` +
        `  ${f(stats.orchestrations)} orchestrator dispatches, ${f(stats.pastEvents)} past events re-sent, ${f(statementsRun)} SQL statements per workflow\n`,
    );
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-calls-'));
  await measure('sqlite', async () => new SqliteWorkflowBackend(path.join(dir, `${Math.random()}.sqlite`), 'calls'));
  if (values.postgres) {
    const url = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
    await measure('postgres', () => PostgresWorkflowBackend.open(url, `calls-${Math.random().toString(36).slice(2, 8)}`));
  }
  if (values.redis) {
    try {
      await measure('redis', () => openRedisWorkflowBackend(newRedisWorkflowApp('calls')));
    } finally {
      await dropRedisWorkflowApps();
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
