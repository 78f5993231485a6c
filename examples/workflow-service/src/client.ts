/**
 * Drives the workflow service from a terminal, no grpcurl needed:
 *
 *   npm run client -w examples/workflow-service -- demo               create the demo workflow (REST) and run it (gRPC)
 *   npm run client -w examples/workflow-service -- execute <workflow id>
 *   npm run client -w examples/workflow-service -- watch <execution id>
 *   npm run client -w examples/workflow-service -- status <execution id>
 *
 * GRPC_ADDRESS (default 127.0.0.1:50051) and API_URL (default http://127.0.0.1:8000) say where the
 * service is. Exits 0 when the execution completed, 1 when it failed, 2 on a usage or call error.
 */
import type { ServiceError } from '@grpc/grpc-js';
import { WorkflowServiceClient } from './grpc/client.js';
import type { ExecutionUpdate } from './grpc/proto.js';

const grpcAddress = process.env['GRPC_ADDRESS'] ?? '127.0.0.1:50051';
const apiUrl = (process.env['API_URL'] ?? 'http://127.0.0.1:8000').replace(/\/$/, '');

/** The demo: greets through the task-target app, sleeps and transforms, with parallel async tasks. */
export const DEMO_WORKFLOW = {
  name: 'demo-greeting',
  description: 'Two parallel calls to task-target, a durable delay, then transforms of the results',
  tasks: [
    { name: 'greet', sequence: 1, execution_type: 'async', kind: 'http', config: { app_id: 'task-target', method: 'greet', body: { name: 'Weft' } } },
    { name: 'slow_call', sequence: 1, execution_type: 'async', kind: 'http', config: { app_id: 'task-target', method: 'sleep?ms=1500' } },
    { name: 'pause', sequence: 1, execution_type: 'async', kind: 'delay', config: { seconds: 2 } },
    { name: 'greeting_text', sequence: 2, execution_type: 'sync', kind: 'transform', config: { operation: 'pick', path: 'greeting', input_from: 'greet' } },
    { name: 'shout', sequence: 3, execution_type: 'sync', kind: 'transform', config: { operation: 'uppercase', input_from: 'greeting_text' } },
  ],
};

function print(update: ExecutionUpdate): void {
  const what = update.task_name ? `task ${update.task_name}` : 'workflow';
  const extra = update.message ? `  ${update.message}` : update.result_json ? `  → ${update.result_json}` : '';
  console.log(`${update.timestamp}  ${what.padEnd(24)} ${update.status.padEnd(9)}${extra}`);
}

async function follow(stream: AsyncIterable<ExecutionUpdate>): Promise<number> {
  let final = 'FAILED';
  let executionId = '';
  for await (const update of stream) {
    if (!executionId) {
      executionId = update.execution_id;
      console.log(`execution ${executionId}`);
    }
    print(update);
    if (!update.task_id) final = update.status;
  }
  if (executionId) console.log(`\nstatus: npm run client -- status ${executionId}   history: GET ${apiUrl}/executions/${executionId}`);
  return final === 'COMPLETED' ? 0 : 1;
}

async function demoWorkflowId(): Promise<string> {
  const list = (await (await fetch(`${apiUrl}/workflows?limit=200`)).json()) as { items: { id: string; name: string }[] };
  const existing = list.items.find((w) => w.name === DEMO_WORKFLOW.name);
  if (existing) return existing.id;
  const res = await fetch(`${apiUrl}/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(DEMO_WORKFLOW) });
  if (res.status !== 201) throw new Error(`creating the demo workflow answered ${res.status}: ${await res.text()}`);
  const created = (await res.json()) as { id: string };
  console.log(`created workflow ${DEMO_WORKFLOW.name} (${created.id})`);
  return created.id;
}

async function run(args: string[]): Promise<number> {
  const [command, id] = args;
  const client = new WorkflowServiceClient(grpcAddress);
  try {
    switch (command) {
      case 'demo':
        return await follow(client.execute(await demoWorkflowId()));
      case 'execute':
        if (!id) break;
        return await follow(client.execute(id));
      case 'watch':
        if (!id) break;
        return await follow(client.watch(id));
      case 'status':
        if (!id) break;
        console.log(JSON.stringify(await client.status(id), null, 2));
        return 0;
    }
    console.error('usage: client.ts demo | execute <workflow id> | watch <execution id> | status <execution id>');
    return 2;
  } finally {
    client.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const grpcError = err as Partial<ServiceError>;
    console.error(grpcError.details ? `error: ${grpcError.details}` : `error: ${(err as Error).message}`);
    process.exit(2);
  },
);
