/**
 * Scale-out on a shared store (PostgreSQL, Redis): two Weft sidecars with the same app id on one database, each with its own
 * `@dapr/dapr` worker. Both take work, each activity runs exactly once (no instance is processed by
 * two sidecars at once), and when one sidecar is killed (`kill -9`) mid-flight the other finishes its workflows after its leases expire.
 */
import { DaprWorkflowClient, WorkflowRuntime, WorkflowRuntimeStatus } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp } from '../support/redis-workflows.js';
import { POSTGRES_URL, REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { eventually, startPostgresWorkflowSidecar, startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

/** The shared stores: whether each is reachable, a fresh app id, and a sidecar on it. */
const stores = [
  {
    name: 'PostgreSQL',
    run: await requireService(SERVICES.postgres, 'workflow scale-out on PostgreSQL'),
    appId: () => `scale-${Math.random().toString(36).slice(2, 8)}`,
    start: (appId: string, env: NodeJS.ProcessEnv) => startPostgresWorkflowSidecar(appId, POSTGRES_URL, env),
  },
  {
    name: 'Redis',
    run: await requireService(SERVICES.redis, 'workflow scale-out on Redis'),
    appId: () => newRedisWorkflowApp('scale'),
    start: (appId: string, env: NodeJS.ProcessEnv) => startWorkflowSidecar(appId, { redisHost: REDIS_HOST, env }),
  },
];
afterAll(() => dropRedisWorkflowApps());
const executions = new Map<string, string[]>();

function worker(target: WorkflowTarget, name: string): WorkflowRuntime {
  const work = async (_: WorkflowActivityContext, input: { id: string; i: number }): Promise<number> => {
    const key = `${input.id}/${input.i}`;
    executions.set(key, [...(executions.get(key) ?? []), name]);
    return input.i;
  };
  const wf: TWorkflow = async function* (ctx: WorkflowContext, id: string): AsyncGenerator<unknown, unknown, unknown> {
    let total = 0;
    for (let i = 1; i <= 3; i++) total += (yield ctx.callActivity(work, { id, i })) as number;
    yield ctx.createTimer(1);
    const parts = (yield ctx.whenAll([4, 5, 6].map((i) => ctx.callActivity(work, { id, i })))) as number[];
    return total + parts.reduce((a, b) => a + b, 0);
  };
  return new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) })
    .registerWorkflowWithName('shared', wf)
    .registerActivityWithName('work', work);
}

describe.each(stores)('workflow scale-out: two sidecars on one $name', (store) => {
  it.runIf(store.run)('shares the work, runs each activity once, and finishes the workflows of a replica killed with kill -9', async () => {
    const appId = store.appId();
    const env = { WEFT_WORKFLOW_LEASE_MS: '2000' };
    const a = await store.start(appId, env);
    const b = await store.start(appId, env);
    const workerA = worker(a, 'a');
    const workerB = worker(b, 'b');
    await Promise.all([workerA.start(), workerB.start()]);
    const client = new DaprWorkflowClient({ daprHost: '127.0.0.1', daprPort: String(a.sidecar.grpcPort) });
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `${appId}-${i}`);
      for (const id of ids) await client.scheduleNewWorkflow('shared', id, id);
      for (const id of ids) {
        const state = await client.waitForWorkflowCompletion(id, true, 60);
        expect(state?.serializedOutput).toBe('21');
      }
      const mine = [...executions].filter(([key]) => key.startsWith(appId));
      expect(mine.length).toBe(20 * 6);
      expect(mine.every(([, by]) => by.length === 1)).toBe(true);
      const byA = mine.filter(([, by]) => by[0] === 'a').length;
      expect(byA).toBeGreaterThan(0);
      expect(byA).toBeLessThan(mine.length);

      const more = Array.from({ length: 10 }, (_, i) => `${appId}-late-${i}`);
      for (const id of more) await client.scheduleNewWorkflow('shared', id, id);
      // kill -9 while B holds leases on some of them: they finish on A once the leases expire.
      await eventually(async () => ([...executions].some(([key, by]) => key.startsWith(`${appId}-late-`) && by.includes('b')) ? true : undefined), 30_000, 'B to take late work');
      expect(b.process).toBeDefined();
      b.process?.child.kill('SIGKILL');
      void workerB.stop().catch(() => undefined);
      for (const id of more) {
        const state = await client.waitForWorkflowCompletion(id, true, 60);
        expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
        expect(state?.serializedOutput).toBe('21');
      }
    } finally {
      await workerA.stop();
      await client.stop();
      await a.stop();
      await b.stop();
    }
  }, 120_000);
});
