/**
 * The dashboard tests' workflow app: an order fan-out (one pricing activity per line item), an
 * approval that waits for an external event, and a workflow that waits forever (to be terminated).
 * Runs beside `weft run` with the `@dapr/dapr` WorkflowRuntime on DAPR_GRPC_PORT.
 */
import { WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';

interface LineItem {
  sku: string;
  qty: number;
}

const priceItem = async (_: WorkflowActivityContext, item: LineItem): Promise<{ sku: string; total: number }> => ({ sku: item.sku, total: item.qty * 10 });

const orderFanOut: TWorkflow = async function* (ctx: WorkflowContext, order: { items: LineItem[] }): AsyncGenerator<unknown, unknown, { sku: string; total: number }[]> {
  const priced = yield ctx.whenAll(order.items.map((item) => ctx.callActivity(priceItem, item)));
  ctx.setCustomStatus('priced');
  return { lines: priced.length, total: priced.reduce((sum, p) => sum + p.total, 0) };
};

const approval: TWorkflow = async function* (ctx: WorkflowContext, request: { amount: number }): AsyncGenerator<unknown, unknown, unknown> {
  ctx.setCustomStatus('waiting for approval');
  const decision = yield ctx.waitForExternalEvent('approval');
  return { amount: request.amount, decision };
};

const waitsForever: TWorkflow = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, unknown, unknown> {
  yield ctx.waitForExternalEvent('never');
  return 'unreachable';
};

const runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: process.env['DAPR_GRPC_PORT'] ?? '50001', logger: { level: 0 } });
runtime.registerWorkflow(orderFanOut).registerWorkflow(approval).registerWorkflow(waitsForever).registerActivity(priceItem);
await runtime.start();
console.log('workflow worker started');

const stop = () => {
  void runtime.stop().finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
