/**
 * One seq3 workflow's timeline through the engine in process: every store call (start and end) and
 * every work item sent and answered, in ms from the start request, for workflows run one at a time
 * with a worker that answers in the next turn of the event loop. Shows the waits that are not CPU
 * (timers, extra event loop hops) between schedule, commit, dispatch and answer.
 *
 *   npx tsx bench/workflow/trace-seq3.ts [--runs 50]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../packages/runtime/src/logging/logger.js';
import type { WorkflowBackend } from '../../packages/runtime/src/workflow/backend.js';
import type { WorkItemMessage } from '../../packages/runtime/src/workflow/dispatcher.js';
import { WorkflowEngine } from '../../packages/runtime/src/workflow/engine.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
let t0 = 0;
let marks: string[] = [];
const mark = (what: string) => marks.push(`${(performance.now() - t0).toFixed(2).padStart(7)} ${what}`);

function traced(backend: WorkflowBackend): WorkflowBackend {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        mark(`  ${String(prop)} called`);
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) void out.then((r) => mark(`  ${String(prop)} resolved${r === undefined || (Array.isArray(r) && r.length === 0) ? ' (nothing)' : ''}`), () => undefined);
        return out;
      };
    },
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-trace-'));
  const backend = new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'trace', 5000, silentLogger());
  const e = new WorkflowEngine({ backend: traced(backend), logger: silentLogger() });
  e.connect((item: WorkItemMessage) => {
    if ('activityRequest' in item) {
      const r = item.activityRequest;
      mark(`activity ${r.taskId} sent`);
      setImmediate(() => {
        mark(`activity ${r.taskId} answered`);
        void e.completeActivity({ instanceId: r.orchestrationInstance.instanceId, taskId: r.taskId, result: String(Number(r.input?.value ?? '0') + 1), failure: null });
      });
      return;
    }
    const o = item.orchestratorRequest;
    const events = [...o.pastEvents, ...o.newEvents];
    const done = events.filter((x) => x.taskCompleted).length;
    mark(`orchestrator sent (${done} done)`);
    const actions = done === 3
      ? [{ id: 4, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED' as const, result: { value: '1' } } }]
      : [{ id: done + 1, scheduleTask: { name: 'inc', input: { value: String(done) } } }];
    setImmediate(() => {
      mark('orchestrator answered');
      void e.completeOrchestration(o.instanceId, { actions, customStatus: null });
    });
  }, () => undefined);
  const totals: number[] = [];
  const runs = Number(values.runs);
  for (let i = 0; i < runs; i++) {
    marks = [];
    t0 = performance.now();
    const id = await e.start({ instanceId: `t-${i}`, name: 'seq3', input: '0' });
    await e.waitFor(id, (x) => x.status === 'COMPLETED');
    totals.push(performance.now() - t0);
    if (i === runs - 1) process.stdout.write(marks.join('\n') + '\n');
  }
  totals.sort((a, b) => a - b);
  process.stdout.write(`p50 ${totals[Math.floor(runs / 2)]!.toFixed(2)} ms over ${runs} runs (load ${os.loadavg()[0]?.toFixed(1)})\n`);
  await e.close();
  await backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
