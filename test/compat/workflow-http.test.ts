/**
 * The workflow HTTP API of a real `weft sidecar`: the invoice flow with an `@dapr/dapr` worker (start
 * with an instanceID, get, raise `approval`, terminate, purge), Dapr's error codes, and the Weft
 * extensions (list, history, purge by filter) with no app attached.
 */
import { WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startWorkflowSidecar } from '../support/workflow-target.js';
import type { WorkflowTarget } from '../support/workflow-target.js';

const createInvoice = async (_: WorkflowActivityContext, order: { id: string; amount: number }) => ({ invoice: `INV-${order.id}`, amount: order.amount });
const invoiceWorkflow: TWorkflow = async function* (ctx: WorkflowContext, order: { id: string; amount: number }): AsyncGenerator<unknown, unknown, unknown> {
  const invoice = (yield ctx.callActivity(createInvoice, order)) as { invoice: string };
  ctx.setCustomStatus('awaiting approval');
  const decision = (yield ctx.waitForExternalEvent('approval')) as { approved: boolean };
  return { ...invoice, approved: decision.approved };
};

interface Json {
  status: number;
  body: Record<string, unknown>;
  contentType: string | null;
}

async function call(base: string, method: string, path: string, body?: string): Promise<Json> {
  const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, contentType: res.headers.get('content-type') };
}

const uid = () => Math.random().toString(36).slice(2, 10);

describe('workflow HTTP API with an @dapr/dapr worker', () => {
  let target: WorkflowTarget;
  let runtime: WorkflowRuntime;
  let base: string;

  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-http');
    base = `http://127.0.0.1:${target.sidecar.httpPort}`;
    runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: String(target.sidecar.grpcPort) });
    runtime.registerWorkflow(invoiceWorkflow).registerActivity(createInvoice);
    await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await target?.stop();
  });

  it('runs the invoice flow: start with an instanceID, get, raise approval, purge', async () => {
    const id = `invoice_${uid()}`;
    const started = await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${id}`, '{"id":"42","amount":99}');
    expect(started).toMatchObject({ status: 202, body: { instanceID: id } });
    const waiting = await eventually(async () => {
      const got = await call(base, 'GET', `/v1.0/workflows/dapr/${id}`);
      return (got.body['properties'] as Record<string, string> | undefined)?.['dapr.workflow.custom_status'] ? got : undefined;
    });
    expect(waiting.status).toBe(200);
    expect(waiting.body).toMatchObject({ instanceID: id, workflowName: 'invoiceWorkflow', runtimeStatus: 'RUNNING' });
    expect(waiting.body['properties']).toMatchObject({ 'dapr.workflow.input': '{"id":"42","amount":99}', 'dapr.workflow.custom_status': 'awaiting approval' });
    const raised = await call(base, 'POST', `/v1.0-beta1/workflows/dapr/${id}/raiseEvent/approval`, '{"approved":true}');
    expect(raised).toMatchObject({ status: 202, body: {} });
    const done = await eventually(async () => {
      const got = await call(base, 'GET', `/v1.0-alpha1/workflows/dapr/${id}`);
      return got.body['runtimeStatus'] === 'COMPLETED' ? got : undefined;
    });
    expect(JSON.parse((done.body['properties'] as Record<string, string>)['dapr.workflow.output'] ?? '')).toEqual({ invoice: 'INV-42', amount: 99, approved: true });
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/purge`)).toMatchObject({ status: 202, body: {} });
    expect(await call(base, 'GET', `/v1.0/workflows/dapr/${id}`)).toMatchObject({ status: 404, body: { errorCode: 'ERR_INSTANCE_ID_NOT_FOUND' } });
  });

  it('terminates a waiting invoice, refuses to purge it while running, then purges it', async () => {
    const id = `invoice_${uid()}`;
    await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${id}`, '{"id":"7","amount":1}');
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/purge`)).toMatchObject({ status: 500, body: { errorCode: 'ERR_PURGE_WORKFLOW' } });
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/terminate`)).toMatchObject({ status: 202, body: {} });
    expect((await call(base, 'GET', `/v1.0/workflows/dapr/${id}`)).body['runtimeStatus']).toBe('TERMINATED');
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/purge`)).toMatchObject({ status: 202, body: {} });
  });

  it('pauses and resumes an instance over HTTP', async () => {
    const id = `invoice_${uid()}`;
    await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${id}`, '{"id":"8","amount":2}');
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/pause`)).toMatchObject({ status: 202, body: {} });
    expect((await call(base, 'GET', `/v1.0/workflows/dapr/${id}`)).body['runtimeStatus']).toBe('SUSPENDED');
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/${id}/resume`)).toMatchObject({ status: 202, body: {} });
    await call(base, 'POST', `/v1.0/workflows/dapr/${id}/raiseEvent/approval`, '{"approved":false}');
    const done = await eventually(async () => {
      const got = await call(base, 'GET', `/v1.0/workflows/dapr/${id}`);
      return got.body['runtimeStatus'] === 'COMPLETED' ? got : undefined;
    });
    expect(done.status).toBe(200);
  });

  it("answers bad input with Dapr's error codes", async () => {
    const long = 'x'.repeat(65);
    expect(await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${long}`)).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_INSTANCE_ID_TOO_LONG' },
    });
    expect(await call(base, 'POST', '/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=bad%20id!')).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_INSTANCE_ID_INVALID' },
    });
    expect(await call(base, 'POST', '/v1.0/workflows/other/invoiceWorkflow/start')).toMatchObject({
      status: 400,
      body: { errorCode: 'ERR_WORKFLOW_COMPONENT_NOT_FOUND' },
    });
    expect(await call(base, 'GET', '/v1.0/workflows/dapr/missing-instance')).toMatchObject({ status: 404, body: { errorCode: 'ERR_INSTANCE_ID_NOT_FOUND' } });
    expect(await call(base, 'POST', '/v1.0/workflows/dapr/missing-instance/terminate')).toMatchObject({
      status: 404,
      body: { errorCode: 'ERR_INSTANCE_ID_NOT_FOUND' },
    });
    expect(await call(base, 'POST', '/v1.0/workflows/dapr/missing-instance/purge')).toMatchObject({ status: 404, body: { errorCode: 'ERR_INSTANCE_ID_NOT_FOUND' } });
    const id = `dup_${uid()}`;
    expect((await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${id}`, '{"id":"1","amount":1}')).status).toBe(202);
    const dup = await call(base, 'POST', `/v1.0/workflows/dapr/invoiceWorkflow/start?instanceID=${id}`, '{"id":"1","amount":1}');
    expect(dup).toMatchObject({ status: 500, body: { errorCode: 'ERR_START_WORKFLOW' } });
    expect(dup.contentType).toContain('application/json');
    expect((await call(base, 'GET', '/v1.0/healthz/outbound')).status).toBe(204);
  });
});

describe('workflow management over HTTP with no app attached', () => {
  let target: WorkflowTarget;
  let base: string;

  beforeAll(async () => {
    target = await startWorkflowSidecar('wf-noapp');
    base = `http://127.0.0.1:${target.sidecar.httpPort}`;
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('lists pending instances with filters and paging, shows history, terminates and purges by filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(base, 'POST', `/v1.0/workflows/dapr/${i < 3 ? 'orders' : 'refunds'}/start?instanceID=batch-${i}`, String(i));
      ids.push(String(res.body['instanceID']));
    }
    const pending = await call(base, 'GET', '/v1.0/workflows/dapr?status=PENDING&name=orders');
    expect((pending.body['instances'] as { instanceID: string }[]).map((i) => i.instanceID).sort()).toEqual(['batch-0', 'batch-1', 'batch-2']);
    const page1 = await call(base, 'GET', '/v1.0/workflows/dapr?pageSize=2&idPrefix=batch-');
    expect((page1.body['instances'] as unknown[]).length).toBe(2);
    const page2 = await call(base, 'GET', `/v1.0/workflows/dapr?pageSize=2&idPrefix=batch-&continuationToken=${String(page1.body['continuationToken'])}`);
    const page3 = await call(base, 'GET', `/v1.0/workflows/dapr?pageSize=2&idPrefix=batch-&continuationToken=${String(page2.body['continuationToken'])}`);
    const seen = [page1, page2, page3].flatMap((p) => (p.body['instances'] as { instanceID: string }[]).map((i) => i.instanceID));
    expect(seen.sort()).toEqual(ids.sort());
    expect(page3.body['continuationToken']).toBeUndefined();

    expect((await call(base, 'POST', '/v1.0/workflows/dapr/batch-0/terminate')).status).toBe(202);
    const history = await call(base, 'GET', '/v1.0/workflows/dapr/batch-0/history');
    expect((history.body['history'] as { type: string }[]).map((e) => e.type)).toEqual(['ExecutionTerminated', 'ExecutionCompleted']);
    expect(await call(base, 'GET', '/v1.0/workflows/dapr?status=BOGUS')).toMatchObject({ status: 400, body: { errorCode: 'ERR_BAD_REQUEST' } });

    const purged = await call(base, 'DELETE', '/v1.0/workflows/dapr?status=TERMINATED');
    expect(purged.body).toEqual({ deletedInstanceCount: 1 });
    const remaining = await call(base, 'GET', '/v1.0/workflows/dapr');
    expect((remaining.body['instances'] as unknown[]).length).toBe(4);
  });
});
