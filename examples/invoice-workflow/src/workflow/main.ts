/**
 * workflow-app: hosts `invoice_workflow` and its activities (`WorkflowRuntime`, connected to the
 * sidecar's gRPC port) and serves the HTTP API on `APP_PORT` (8080 by default, as in the seed).
 */
import { DaprWorkflowClient, LogLevel, WorkflowRuntime } from '@dapr/dapr';
import { loadConfig } from '../shared/config.js';
import { createService, listen } from '../shared/http-service.js';
import { createActivities } from './activities.js';
import { registerApi } from './api.js';
import { EXTRACT_PAGE_WORKFLOW_NAME, WORKFLOW_NAME, createInvoiceWorkflow, extractPageWorkflow } from './invoice-workflow.js';

const config = loadConfig();
const sidecar = { daprHost: '127.0.0.1', daprPort: String(config.DAPR_GRPC_PORT), logger: { level: LogLevel.Warn } };

const runtime = new WorkflowRuntime(sidecar)
  .registerWorkflowWithName(WORKFLOW_NAME, createInvoiceWorkflow({ threshold: config.APPROVAL_THRESHOLD, timeoutSeconds: config.APPROVAL_TIMEOUT }))
  .registerWorkflowWithName(EXTRACT_PAGE_WORKFLOW_NAME, extractPageWorkflow);
for (const [name, activity] of Object.entries(createActivities(config))) runtime.registerActivityWithName(name, activity);
const client = new DaprWorkflowClient(sidecar);

const app = createService('workflow-app', config);
registerApi(app, client);
app.addHook('onClose', async () => {
  await runtime.stop();
  await client.stop();
});

await runtime.start();
await listen(app, config);
app.log.info({ approval_threshold: config.APPROVAL_THRESHOLD, approval_timeout_seconds: config.APPROVAL_TIMEOUT }, 'invoice workflow API ready');
