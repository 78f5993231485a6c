/** `@dapr/dapr` workflows against a real `weft sidecar` process on the embedded SQLite backend. */
import { afterAll, beforeAll, describe } from 'vitest';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { daprWorkflowScenarios } from './workflow-dapr-scenarios.js';

describe('@dapr/dapr workflows on weft (SQLite backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-dapr-sqlite');
  });
  afterAll(async () => {
    await target?.stop();
  });
  daprWorkflowScenarios(() => target);
});
