/** `@dapr/durabletask-js` against a real `weft sidecar` process on the embedded SQLite backend. */
import { afterAll, beforeAll, describe } from 'vitest';
import { startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';
import { durabletaskScenarios } from './workflow-durabletask-scenarios.js';

describe('@dapr/durabletask-js on weft (SQLite backend)', () => {
  let target: WorkflowTarget;
  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-dt-sqlite');
  });
  afterAll(async () => {
    await target?.stop();
  });
  durabletaskScenarios(() => target);
});
