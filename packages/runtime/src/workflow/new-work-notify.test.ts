/**
 * Other replicas hear of new work at once on Postgres (LISTEN/NOTIFY, issue 10) and on Redis
 * (pub/sub), instead of at their next poll. Both engines here poll every 10 minutes and hold leases as long, so the only way the
 * second replica can see an instance started through the first one within the test is the
 * notification.
 */
import { afterAll, afterEach, describe, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import type { WorkflowBackend } from './backend.js';
import { silentLogger } from '../logging/logger.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';

const engines: WorkflowEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});
afterAll(() => dropRedisWorkflowApps());

const TEN_MINUTES = 600_000;

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const orchestrationIds = (sent: WorkItemMessage[]) => sent.flatMap((m) => ('orchestratorRequest' in m ? [m.orchestratorRequest.instanceId] : []));

/** Two backends on one store, as two replicas open it; undefined when the service is down. */
const stores: Record<string, () => Promise<[WorkflowBackend, WorkflowBackend] | undefined>> = {
  'Postgres through NOTIFY': async () => {
    if (!(await requireService(SERVICES.postgres, 'workflow NOTIFY on Postgres'))) return undefined;
    const appId = `notify-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    return [await PostgresWorkflowBackend.open(POSTGRES_URL, appId), await PostgresWorkflowBackend.open(POSTGRES_URL, appId)];
  },
  'Redis through pub/sub': async () => {
    if (!(await requireService(SERVICES.redis, 'workflow pub/sub on Redis'))) return undefined;
    const appId = newRedisWorkflowApp('notify');
    return [await openRedisWorkflowBackend(appId), await openRedisWorkflowBackend(appId)];
  },
};

describe.each(Object.keys(stores))('new work on %s', (store) => {
  it('reaches an idle replica: an instance started through another replica', async () => {
    const pair = await stores[store]!();
    if (!pair) return;
    const slow = { pollMs: TEN_MINUTES, leaseMs: TEN_MINUTES, logger: silentLogger() };
    // A: no worker of its own; B: the worker.
    const a = new WorkflowEngine({ backend: pair[0], ...slow });
    const b = new WorkflowEngine({ backend: pair[1], ...slow });
    engines.push(a, b);
    const onB: WorkItemMessage[] = [];
    b.connect((item) => onB.push(item), () => undefined);

    // B's own first dispatch round is over once it has delivered work it started itself.
    await b.start({ instanceId: 'warm-up', name: 'wf', input: null });
    await until(() => orchestrationIds(onB).includes('warm-up'), 'the warm-up instance on B');

    await a.start({ instanceId: 'via-a', name: 'wf', input: null });
    await until(() => orchestrationIds(onB).includes('via-a'), 'the instance started through A to reach B');

  });
});
