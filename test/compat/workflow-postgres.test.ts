/**
 * The same `@dapr/dapr` and `@dapr/durabletask-js` scenarios with the workflow backend on PostgreSQL
 * (a `state.postgresql` component marked `actorStateStore`). Each suite uses its own app id, so its
 * rows never meet another suite's.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../support/services.js';
import { startPostgresWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { daprWorkflowScenarios } from './workflow-dapr-scenarios.js';
import { durabletaskScenarios } from './workflow-durabletask-scenarios.js';

const run = await requireService(SERVICES.postgres, 'workflows on PostgreSQL');
const suffix = Math.random().toString(36).slice(2, 8);

describe.runIf(run)('@dapr/dapr workflows on weft (PostgreSQL backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startPostgresWorkflowSidecar(`wf-dapr-pg-${suffix}`, POSTGRES_URL);
  });
  afterAll(async () => {
    await target?.stop();
  });
  daprWorkflowScenarios(() => target);
});

describe.runIf(run)('@dapr/durabletask-js on weft (PostgreSQL backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startPostgresWorkflowSidecar(`wf-dt-pg-${suffix}`, POSTGRES_URL);
  });
  afterAll(async () => {
    await target?.stop();
  });
  durabletaskScenarios(() => target);
});
