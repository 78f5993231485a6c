/**
 * Does a store full of finished instances cost CPU per workflow? Runs seq3 (and fan10) through the
 * engine in process with the scripted worker of `calls-per-workflow.ts`, on an empty SQLite store and
 * on one seeded with `--count` finished instances, interleaved (empty, full, empty, full, …) so that
 * load drift on a shared machine lands on both alike, and prints CPU ms per workflow of this process
 * (`process.cpuUsage`: engine, store driver, WAL checkpointer thread and scripted worker) for each,
 * and its read and write system calls per workflow (`/proc/self/io`: page cache misses show as reads,
 * WAL frames as writes), with the query plans that differ between the two stores.
 *
 *   npx tsx bench/workflow/store-growth.ts [--count 100000] [--workflows 1000] [--rounds 3] [--in-flight 32]
 *     [--workload seq3|fan10] [--random-ids] [--only empty|full]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3';
import { silentLogger } from '../../packages/runtime/src/logging/logger.js';
import type { WorkItemMessage } from '../../packages/runtime/src/workflow/dispatcher.js';
import { WorkflowEngine } from '../../packages/runtime/src/workflow/engine.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';
import { activityResult, orchestratorResult } from './scripted-worker.js';
import { seedSqlite } from './seed.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    workflows: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '32' },
    workload: { type: 'string', default: 'seq3' },
    only: { type: 'string' },
    'random-ids': { type: 'boolean', default: false },
  },
});
const workflows = Number(values.workflows);
const inFlight = Number(values['in-flight']);
const workload = values.workload as 'seq3' | 'fan10';

/** Scripted worker: the answers `@dapr/dapr` would give, each in a later turn of the event loop. */
function answer(e: WorkflowEngine, item: WorkItemMessage): void {
  if ('activityRequest' in item) {
    const result = activityResult(item.activityRequest);
    setImmediate(() => void e.completeActivity(result));
    return;
  }
  const o = item.orchestratorRequest;
  const result = orchestratorResult(o, workload);
  setImmediate(() => void e.completeOrchestration(o.instanceId, result));
}

/** The query plan of every statement the backend prepared, by SQL. */
function plans(backend: SqliteWorkflowBackend): Map<string, string> {
  const b = backend as unknown as { db: Database.Database; statements: Map<string, Database.Statement> };
  const out = new Map<string, string>();
  for (const sql of b.statements.keys()) {
    try {
      const n = (sql.match(/\?/g) ?? []).length;
      const rows = b.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from({ length: n }, () => null)) as { detail: string }[];
      out.set(sql.replace(/\s+/g, ' ').slice(0, 120), rows.map((r) => r.detail).join(' / '));
    } catch {
      // Statements EXPLAIN cannot take as they are (none expected).
    }
  }
  return out;
}

/** Read and write system calls of this process so far (`/proc/self/io`: every thread, the checkpointer's too). */
function io(): { syscr: number; syscw: number } {
  const text = fs.readFileSync('/proc/self/io', 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { syscr: field('syscr'), syscw: field('syscw') };
}

/** Runs `workflows` workflows, `inFlight` at a time, on the store at `file`; CPU ms per workflow. */
async function round(file: string, appId: string, tag: string): Promise<{ cpuMs: number; plans: Map<string, string> }> {
  const backend = new SqliteWorkflowBackend(file, appId, 5000, silentLogger());
  // Claims, and those that found nothing (each reads the visible inbox up to the first free instance).
  const claims = { all: 0, empty: 0 };
  const lockNext = backend.lockNextOrchestration.bind(backend);
  backend.lockNextOrchestration = async (...args) => {
    claims.all += 1;
    const item = await lockNext(...args);
    if (!item) claims.empty += 1;
    return item;
  };
  const e = new WorkflowEngine({ backend, logger: silentLogger() });
  e.connect((item) => answer(e, item), () => undefined);
  let next = 0;
  // A warm-up (JIT, prepared statements, the store's hot pages) of a fifth, then the measured run.
  const measuredFrom = Math.floor(workflows / 5);
  const runUntil = async (limit: number) => {
    const lanes = Array.from({ length: inFlight }, async () => {
      while (next < limit) {
        const n = next++;
        // `--random-ids`: UUIDs, as `@dapr/dapr` makes when the caller gives none (random b-tree keys).
        const instanceId = values['random-ids'] ? randomUUID() : `${tag}-${n}`;
        const id = await e.start({ instanceId, name: workload, input: '0' });
        await e.waitFor(id, (x) => x.status === 'COMPLETED');
      }
    });
    await Promise.all(lanes);
  };
  await runUntil(measuredFrom);
  Object.assign(claims, { all: 0, empty: 0 });
  const before = process.cpuUsage();
  const io0 = io();
  await runUntil(measuredFrom + workflows);
  const cpu = process.cpuUsage(before);
  const io1 = io();
  process.stderr.write(`  reads ${((io1.syscr - io0.syscr) / workflows).toFixed(1)}, writes ${((io1.syscw - io0.syscw) / workflows).toFixed(1)} system calls/workflow; ${(claims.all / workflows).toFixed(1)} claims/workflow, ${(claims.empty / workflows).toFixed(1)} of them empty\n`);
  const p = plans(backend);
  await e.close();
  await backend.close();
  return { cpuMs: (cpu.user + cpu.system) / 1000 / workflows, plans: p };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-growth-'));
  const count = Number(values.count);
  const stores = [
    { name: 'empty', file: path.join(dir, 'empty.sqlite'), appId: 'growth-empty', seed: 0 },
    { name: `${count} finished`, file: path.join(dir, 'full.sqlite'), appId: 'growth-full', seed: count },
  ];
  // `--only empty|full`: one store (for a profile of one side).
  if (values.only) stores.splice(values.only === 'empty' ? 1 : 0, 1);
  for (const s of stores) if (s.seed) await seedSqlite(s.file, s.appId, s.seed);
  const cpu = new Map<string, number[]>(stores.map((s) => [s.name, []]));
  const lastPlans = new Map<string, Map<string, string>>();
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const s of stores) {
      const out = await round(s.file, s.appId, `r${r}`);
      cpu.get(s.name)!.push(out.cpuMs);
      lastPlans.set(s.name, out.plans);
      process.stderr.write(`round ${r} ${s.name}: ${out.cpuMs.toFixed(3)} ms/workflow (load ${os.loadavg()[0]?.toFixed(1)})\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  if (stores.length === 1) {
    process.stdout.write(`${workload}: CPU ms/workflow ${stores[0]!.name}: ${median(cpu.get(stores[0]!.name)!).toFixed(3)}\n`);
    return;
  }
  const [a, b] = stores.map((s) => median(cpu.get(s.name)!));
  process.stdout.write(`${workload}: CPU ms/workflow (median of ${values.rounds} interleaved rounds of ${workflows}, ${inFlight} in flight): empty ${a!.toFixed(3)}, ${stores[1]!.name} ${b!.toFixed(3)} (${(b! / a!).toFixed(2)}×); load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}\n`);
  const pe = lastPlans.get(stores[0]!.name)!;
  const pf = lastPlans.get(stores[1]!.name)!;
  for (const [sql, plan] of pf) if (pe.get(sql) !== plan) process.stdout.write(`plan differs: ${sql}\n  empty: ${pe.get(sql)}\n  full:  ${plan}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
