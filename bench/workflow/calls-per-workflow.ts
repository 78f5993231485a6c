/**
 * Store calls per workflow, independent of how busy the machine is: runs seq3 and fan10 through the
 * engine in process with a scripted worker (the answers `@dapr/dapr` would give) and counts the
 * backend calls each workflow costs, by method, on SQLite (and Postgres with `--postgres`, Redis with
 * `--redis`: there every call is one round trip, one Lua script for each change), the orchestrator
 * dispatches (with the past events they re-sent), and what they cost the database: SQLite write
 * transactions (BEGIN IMMEDIATE) and statements run; Postgres round trips (queries sent) and durable
 * commits (COMMITs of transactions that switch `synchronous_commit` on, and single statements that do
 * it themselves). With 200 workflows at once, group commit puts many writes in one transaction: the
 * database counts depend on that concurrency.
 *
 *   npx tsx bench/workflow/calls-per-workflow.ts [--count 200] [--postgres] [--redis] [--coalesce-ms 20] [--per-stream 100]
 *
 * `--coalesce-ms 0 --per-stream 10` is the engine before fan-out coalescing (with batched claims).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3';
import type pgModule from 'pg';
import { createRequire } from 'node:module';
import { silentLogger } from '../../packages/runtime/src/logging/logger.js';
import type { WorkflowBackend } from '../../packages/runtime/src/workflow/backend.js';
import type { WorkItemMessage } from '../../packages/runtime/src/workflow/dispatcher.js';
import { WorkflowEngine } from '../../packages/runtime/src/workflow/engine.js';
import { PostgresWorkflowBackend } from '../../packages/runtime/src/workflow/postgres-backend.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';
import { activityResult, orchestratorResult, type Workload } from './scripted-worker.js';
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

/** Database-level counts of the workload being measured. */
const db = { writeTx: 0, statements: 0, roundTrips: 0, durableCommits: 0 };

/** Counts statements and write transactions of every better-sqlite3 statement (BEGIN and COMMIT are statements too). */
function countSqlite(backend: SqliteWorkflowBackend): void {
  const handle = (backend as unknown as { db: Database.Database }).db;
  const proto = Object.getPrototypeOf(handle.prepare('SELECT 1')) as Record<string, unknown> & { __counted?: boolean };
  if (proto.__counted) return;
  proto.__counted = true;
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = proto[name] as (this: Database.Statement, ...args: unknown[]) => unknown;
    proto[name] = function (this: Database.Statement, ...args: unknown[]) {
      const sql = this.source;
      if (sql === 'BEGIN IMMEDIATE') db.writeTx += 1;
      else if (sql !== 'COMMIT' && sql !== 'ROLLBACK') db.statements += 1;
      return original.apply(this, args);
    };
  }
}

/** Counts queries sent by every pg client (pool clients included), and the durable commits among them. */
function countPostgres(): void {
  // The runtime's copy of pg (the bench has its own), so its pool's clients are the ones counted.
  const pg = createRequire(new URL('../../packages/runtime/package.json', import.meta.url))('pg') as typeof pgModule;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown; __counted?: boolean };
  if (proto.__counted) return;
  proto.__counted = true;
  const original = proto.query;
  const durable = new WeakSet<object>();
  proto.query = function (this: object, ...args: unknown[]) {
    const first = args[0];
    const sql = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    db.roundTrips += 1;
    // The batch statements of group commit call functions that switch it on themselves.
    if (/synchronous_commit\s*=\s*on|set_config\('synchronous_commit', 'on'|weft_wf_(commit_step|create_instance|complete_activity_lock)_v\d+\(/i.test(sql)) {
      // A transaction switching durable commit on (its COMMIT comes later), or one statement doing so itself.
      if (/^\s*BEGIN/i.test(sql)) durable.add(this);
      else db.durableCommits += 1;
    } else if (/COMMIT\s*$/i.test(sql) && durable.has(this)) {
      durable.delete(this);
      db.durableCommits += 1;
    }
    return original.apply(this, args);
  };
}

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

/** Scripted worker (`scripted-worker.ts`). */
function answer(e: WorkflowEngine, item: WorkItemMessage, workload: Workload): void {
  if ('activityRequest' in item) {
    const result = activityResult(item.activityRequest);
    // One result per turn of the event loop, in the order sent: a fan-out's results arrive one by one,
    // with the sidecar's own work in between, as from a real worker (never all in one turn).
    results.push(() => void e.completeActivity(result));
    if (results.length === 1) setImmediate(answerNext);
    return;
  }
  const o = item.orchestratorRequest;
  const result = orchestratorResult(o, workload);
  setImmediate(() => void e.completeOrchestration(o.instanceId, result));
}

async function measure(name: string, open: () => Promise<WorkflowBackend>): Promise<void> {
  for (const workload of ['seq3', 'fan10'] as const) {
    const calls = new Map<string, number>();
    const backend = await open();
    Object.assign(db, { writeTx: 0, statements: 0, roundTrips: 0, durableCommits: 0 });
    const e = new WorkflowEngine({
      backend: counting(backend, calls),
      logger: silentLogger(),
      ...(values['coalesce-ms'] !== undefined ? { coalesceMs: Number(values['coalesce-ms']) } : {}),
      ...(values['per-stream'] !== undefined ? { maxPerStream: Number(values['per-stream']) } : {}),
    });
    const cpuBefore = process.cpuUsage();
    e.connect((item) => answer(e, item, workload), () => undefined);
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const id = await e.start({ instanceId: `${workload}-${i}`, name: workload, input: '0' });
        await e.waitFor(id, (x) => x.status === 'COMPLETED');
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const stats = { ...e.dispatchStats };
    await e.close();
    const per = [...calls].filter(([k]) => !['getInstance', 'close', 'renewLeases', 'idleWithPendingWork'].includes(k)).sort();
    const total = per.reduce((a, [, v]) => a + v, 0);
    const f = (n: number) => (n / count).toFixed(1);
    const database = name === 'sqlite'
      ? `${f(db.writeTx)} write transactions, ${f(db.statements)} statements`
      : name === 'postgres' ? `${f(db.roundTrips)} round trips, ${f(db.durableCommits)} durable commits` : `${f(total)} round trips`;
    const cpuMs = ((cpu.user + cpu.system) / 1000 / count).toFixed(2);
    process.stdout.write(
      `${name} ${workload}: ${database}; CPU ${cpuMs} ms/workflow (engine, store driver and scripted worker in one process); ${f(total)} store calls/workflow — ${per.map(([k, v]) => `${k} ${f(v)}`).join(', ')}\n` +
        `  ${f(stats.orchestrations)} orchestrator dispatches, ${f(stats.pastEvents)} past events re-sent\n`,
    );
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-calls-'));
  await measure('sqlite', async () => {
    const backend = new SqliteWorkflowBackend(path.join(dir, `${Math.random()}.sqlite`), 'calls');
    countSqlite(backend);
    return backend;
  });
  if (values.postgres) {
    countPostgres();
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
