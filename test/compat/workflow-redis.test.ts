/**
 * The same `@dapr/dapr` and `@dapr/durabletask-js` scenarios with the workflow backend on Redis (a
 * `state.redis` component marked `actorStateStore`). Each suite uses its own app id, so its keys
 * never meet another suite's; they are deleted afterwards.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp } from '../support/redis-workflows.js';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { daprWorkflowScenarios } from './workflow-dapr-scenarios.js';
import { durabletaskScenarios } from './workflow-durabletask-scenarios.js';

const run = await requireService(SERVICES.redis, 'workflows on Redis');
afterAll(() => dropRedisWorkflowApps());

describe.runIf(run)('@dapr/dapr workflows on weft (Redis backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startWorkflowSidecar(newRedisWorkflowApp('wf-dapr-redis'), { redisHost: REDIS_HOST });
  });
  afterAll(async () => {
    await target?.stop();
  });
  daprWorkflowScenarios(() => target);
});

describe.runIf(run)('@dapr/durabletask-js on weft (Redis backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startWorkflowSidecar(newRedisWorkflowApp('wf-dt-redis'), { redisHost: REDIS_HOST });
  });
  afterAll(async () => {
    await target?.stop();
  });
  durabletaskScenarios(() => target);
});
