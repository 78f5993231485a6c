/**
 * Crash safety at the scale: WEFT_CRASH_WORKFLOWS workflows (3 sequential activities, a
 * timer, a fan-out of 5) in flight on the real `weft sidecar`, which is killed (`kill -9` from inside,
 * at a named debug point) five times in a row — once at each point — and restarted on the same store
 * each time. Every workflow then completes with the right output; activities that ran more than once
 * (at-least-once delivery) are counted and printed. On SQLite, on Postgres and on Redis.
 *
 * The issue asks for 500 workflows; that is what the report's run used (WEFT_CRASH_WORKFLOWS=500).
 * CI defaults to 150 so every backend fits in a few minutes on a shared 2-core machine.
 */
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp } from '../support/redis-workflows.js';
import { POSTGRES_URL, REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

const WORKFLOWS = Number(process.env['WEFT_CRASH_WORKFLOWS'] ?? 150);
const runPostgres = await requireService(SERVICES.postgres, 'workflow crash safety on PostgreSQL');
const runRedis = await requireService(SERVICES.redis, 'workflow crash safety on Redis');
afterAll(() => dropRedisWorkflowApps());
const executions = new Map<string, number>();

const step = async (_: WorkflowActivityContext, input: { id: string; n: number }): Promise<number> => {
  const key = `${input.id}/step/${input.n}`;
  executions.set(key, (executions.get(key) ?? 0) + 1);
  return input.n + 1;
};
const part = async (_: WorkflowActivityContext, input: { id: string; i: number }): Promise<number> => {
  const key = `${input.id}/part/${input.i}`;
  executions.set(key, (executions.get(key) ?? 0) + 1);
  return input.i * 10;
};

const crashWorkflow: TWorkflow = async function* (ctx: WorkflowContext, id: string): AsyncGenerator<unknown, unknown, unknown> {
  let n = 1;
  for (let i = 0; i < 3; i++) n = (yield ctx.callActivity(step, { id, n })) as number;
  yield ctx.createTimer(1);
  const parts = (yield ctx.whenAll(Array.from({ length: 5 }, (_, i) => ctx.callActivity(part, { id, i: i + 1 })))) as number[];
  return { n, sum: parts.reduce((a, b) => a + b, 0) };
};

interface App {
  runtime: WorkflowRuntime;
  client: DaprWorkflowClient;
}

async function connect(target: WorkflowTarget): Promise<App> {
  const options = { daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) };
  const runtime = new WorkflowRuntime(options).registerWorkflow(crashWorkflow).registerActivity(step).registerActivity(part);
  await runtime.start();
  return { runtime, client: new DaprWorkflowClient(options) };
}

function disconnect(app: App): void {
  void app.runtime.stop().catch(() => undefined);
  void app.client.stop().catch(() => undefined);
}

/** Each restart arms the next point; hits scale with the workload so every crash lands mid-flight. */
function crashPlan(count: number): [string, number][] {
  const k = Math.max(1, Math.floor(count / 10));
  return [
    ['workflow.orchestration.dispatched', 3 * k],
    ['workflow.step.before-commit', 2 * k],
    ['workflow.step.after-commit', 2 * k],
    ['workflow.activity.before-complete', 3 * k],
    ['workflow.activity.after-complete', 3 * k],
  ];
}

/** Schedules the ids not yet known to the store; stops quietly if the sidecar dies meanwhile. */
async function scheduleMissing(app: App, ids: string[]): Promise<void> {
  for (const id of ids) {
    try {
      if (!(await app.client.getWorkflowState(id, false))) await app.client.scheduleNewWorkflow(crashWorkflow, id, id);
    } catch {
      return;
    }
  }
}

async function crashFiveTimes(appId: string, start: (env: NodeJS.ProcessEnv, dataDir?: string) => Promise<WorkflowTarget>): Promise<void> {
  const env = { WEFT_WORKFLOW_LEASE_MS: '1500' };
  const ids = Array.from({ length: WORKFLOWS }, (_, i) => `${appId}-${i}`);
  let dataDir: string | undefined;
  for (const [point, hit] of crashPlan(WORKFLOWS)) {
    const target = await start({ ...env, WEFT_DEBUG_POINTS: `${point}:crash@${hit}` }, dataDir);
    dataDir = target.dataDir;
    const exited = new Promise<void>((resolve) => target.process?.child.once('exit', () => resolve()));
    const app = await connect(target);
    await scheduleMissing(app, ids);
    // A point that is never reached (everything already done) must not hang the test.
    const reached = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
    disconnect(app);
    if (!reached) await target.stop();
    const crashed = target.process?.output().includes(`debug point ${point} reached`) ?? false;
    console.log(`${appId}: ${crashed ? 'killed' : 'NOT killed'} at ${point}#${hit}`);
    expect(crashed).toBe(true);
  }

  const target = await start(env, dataDir);
  const app = await connect(target);
  try {
    await scheduleMissing(app, ids);
    for (const id of ids) {
      const state = await app.client.waitForWorkflowCompletion(id, true, 120);
      expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
      expect(JSON.parse(state?.serializedOutput ?? 'null')).toEqual({ n: 4, sum: 150 });
    }
    const mine = [...executions].filter(([key]) => key.startsWith(`${appId}-`));
    const duplicates = mine.filter(([, count]) => count > 1);
    const extra = duplicates.reduce((a, [, count]) => a + count - 1, 0);
    console.log(`${appId}: ${WORKFLOWS} workflows completed; ${mine.length} activities, ${duplicates.length} executed more than once (${extra} extra executions)`);
    expect(mine.length).toBe(WORKFLOWS * 8);
  } finally {
    await app.runtime.stop();
    await app.client.stop();
    await target.stop();
  }
}

describe('workflow crash safety: kill -9 at five debug points in a row, then restart', () => {
  it(`completes all ${WORKFLOWS} workflows with the right output on the embedded SQLite backend`, async () => {
    const appId = `crash-${Math.random().toString(36).slice(2, 8)}`;
    await crashFiveTimes(appId, (env, dataDir) => startWorkflowSidecar(appId, { env, ...(dataDir ? { dataDir } : {}) }));
  }, 600_000);

  it.runIf(runPostgres)(`completes all ${WORKFLOWS} workflows with the right output on PostgreSQL`, async () => {
    const appId = `crashpg-${Math.random().toString(36).slice(2, 8)}`;
    await crashFiveTimes(appId, (env, dataDir) => startWorkflowSidecar(appId, { env, postgresUrl: POSTGRES_URL, ...(dataDir ? { dataDir } : {}) }));
  }, 600_000);

  it.runIf(runRedis)(`completes all ${WORKFLOWS} workflows with the right output on Redis`, async () => {
    const appId = newRedisWorkflowApp('crashredis');
    await crashFiveTimes(appId, (env, dataDir) => startWorkflowSidecar(appId, { env, redisHost: REDIS_HOST, ...(dataDir ? { dataDir } : {}) }));
  }, 600_000);
});
