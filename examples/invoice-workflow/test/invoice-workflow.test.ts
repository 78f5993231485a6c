/**
 * End to end through real processes: `weft run -f` starts the workflow app and the four services,
 * each beside its own Weft sidecar, on the embedded store. Results are checked field by field against
 * the generator's truth.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceTruth, InvoiceWorkflowResult } from '../src/shared/models.js';
import type { InstanceView } from '../src/workflow/api.js';
import { startInvoiceStack, until } from './stack.js';
import type { InvoiceStack } from './stack.js';

/** Short enough for a test, long enough to approve on a loaded machine. */
const APPROVAL_TIMEOUT_SECONDS = 15;

const result = (view: InstanceView) => view.output as InvoiceWorkflowResult;
const finished = (v: InstanceView) => ['COMPLETED', 'FAILED', 'TERMINATED'].includes(v.runtime_status);
const awaitingApproval = (v: InstanceView) => v.runtime_status === 'RUNNING' && (v.custom_status ?? '').startsWith('awaiting approval');

/** The invoice read from the PDF equals what the generator printed, field by field. */
function expectMatchesTruth(output: InvoiceWorkflowResult, truth: InvoiceTruth): void {
  const invoice = output.invoice;
  expect(invoice.invoice_number).toBe(truth.invoice_number);
  expect(invoice.invoice_date).toBe(truth.invoice_date);
  expect(invoice.vendor).toBe(truth.vendor);
  expect(invoice.currency).toBe(truth.currency);
  expect(invoice.subtotal).toBe(truth.subtotal);
  expect(invoice.tax).toBe(truth.tax);
  expect(invoice.total).toBe(truth.total);
  expect(invoice.page_count).toBe(truth.page_count);
  // Each page exactly once, in order.
  expect(invoice.pages).toEqual(Array.from({ length: truth.page_count }, (_, i) => i + 1));
  expect(invoice.line_items).toHaveLength(truth.line_items.length);
  for (const [i, item] of truth.line_items.entries()) expect(invoice.line_items[i], `line ${i + 1}`).toEqual(item);
  expect(invoice.validation.ok).toBe(truth.sums_add_up);
}

describe('invoice workflow on the embedded default (weft run -f)', () => {
  let stack: InvoiceStack;

  beforeAll(async () => {
    stack = await startInvoiceStack({
      // A slow extraction (per page), so the crash test can kill extract-service while pages are in flight.
      env: { APPROVAL_TIMEOUT: `${APPROVAL_TIMEOUT_SECONDS}s`, APPROVAL_THRESHOLD: '1000', EXTRACT_DELAY_MS: '3000' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('processes a 3-page invoice end to end: upload, split, extract per page, aggregate, approval', async () => {
    const truth = stack.truths.get('sample-invoice.pdf') as InvoiceTruth;
    expect(truth.page_count).toBe(3);
    const started = await stack.start('INV-2025-001', 'sample-invoice.pdf');
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({ instance_id: 'INV-2025-001', status_url: '/api/workflows/INV-2025-001' });
    // Starting the same invoice again is idempotent; another input under the same id is a conflict.
    expect((await stack.start('INV-2025-001', 'sample-invoice.pdf')).status).toBe(200);
    expect((await stack.start('INV-2025-001', 'small-invoice.pdf')).status).toBe(409);

    const waiting = await stack.waitFor('INV-2025-001', 'awaiting approval', awaitingApproval);
    expect(waiting.custom_status).toContain('above the approval threshold 1000.00');
    expect((await stack.raise('INV-2025-001', 'approval', { approve: 'yes' })).status).toBe(400);
    expect((await stack.raise('INV-2025-001', 'approval', { approved: true, approver: 'ann@example.com' })).status).toBe(202);

    const done = await stack.waitFor('INV-2025-001', 'completion', finished);
    expect(done.runtime_status).toBe('COMPLETED');
    expect(done.workflow_name).toBe('invoice_workflow');
    expect(done.input).toEqual({ invoice_id: 'INV-2025-001', pdf_path: 'sample-invoice.pdf' });
    const output = result(done);
    expect(output.decision).toBe('approved');
    expect(output.reason).toBe('approved by ann@example.com');
    expectMatchesTruth(output, truth);
    expect(output.invoice.validation.issues).toEqual([]);

    // The services' artifacts: the upload, one PDF per page, the final JSON.
    expect((await fs.readdir(path.join(stack.artifactsDir, 'pages', 'INV-2025-001'))).sort()).toEqual(['page-001.pdf', 'page-002.pdf', 'page-003.pdf']);
    const uploaded = await fs.readFile(path.join(stack.artifactsDir, 'blobs', 'INV-2025-001', 'invoice.pdf'));
    expect(uploaded.equals(await fs.readFile(path.join(stack.dir, 'samples', 'sample-invoice.pdf')))).toBe(true);
    expect(JSON.parse(await fs.readFile(path.join(stack.artifactsDir, output.invoice.result_path), 'utf8'))).toEqual(output.invoice);
  }, 180_000);

  it('is followed with weft workflow list, get and history, and started and purged with run and purge', async () => {
    const listed = JSON.parse(await stack.weft('list', '-o', 'json')) as { instanceID: string; workflowName: string; runtimeStatus: string }[];
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ instanceID: 'INV-2025-001', workflowName: 'invoice_workflow', runtimeStatus: 'COMPLETED' })]));
    expect(listed.filter((i) => i.workflowName === 'extract_page_workflow' && i.instanceID.startsWith('INV-2025-001-page-')).map((i) => i.instanceID).sort()).toEqual([
      'INV-2025-001-page-1',
      'INV-2025-001-page-2',
      'INV-2025-001-page-3',
    ]);
    expect(await stack.weft('list')).toMatch(/INV-2025-001\s+invoice_workflow\s+COMPLETED/);
    const got = JSON.parse(await stack.weft('get', 'INV-2025-001')) as { runtimeStatus: string; properties: Record<string, string> };
    expect(got.runtimeStatus).toBe('COMPLETED');
    expect((JSON.parse(got.properties['dapr.workflow.output'] ?? 'null') as InvoiceWorkflowResult).decision).toBe('approved');
    const history = JSON.parse(await stack.weft('history', 'INV-2025-001', '-o', 'json')) as { type: string }[];
    const types = history.map((e) => e.type);
    expect(types.filter((t) => t === 'SubOrchestrationInstanceCompleted')).toHaveLength(3);
    expect(types).toEqual(expect.arrayContaining(['ExecutionStarted', 'TaskScheduled', 'TaskCompleted', 'TimerCreated', 'EventRaised', 'ExecutionCompleted']));

    // The seed's `dapr workflow run invoice_workflow --instance-id … --input …`, on a small invoice.
    const input = JSON.stringify({ invoice_id: 'INV-CLI-1', pdf_path: 'small-invoice.pdf' });
    expect((await stack.weft('run', 'invoice_workflow', '--instance-id', 'INV-CLI-1', '--input', input)).trim()).toBe('INV-CLI-1');
    const done = await stack.waitFor('INV-CLI-1', 'completion', finished);
    expect(result(done).decision).toBe('auto_approved');
    expectMatchesTruth(result(done), stack.truths.get('small-invoice.pdf') as InvoiceTruth);
    // The instance and its one page workflow.
    expect(await stack.weft('purge', 'INV-CLI-1')).toContain('purged 2 instance(s)');
    expect(await stack.get('INV-CLI-1')).toBeUndefined();
    await expect(stack.weft('get', 'INV-CLI-1-page-1')).rejects.toThrow(/no workflow instance INV-CLI-1-page-1/);
  }, 180_000);

  it('rejects an invoice whose sums do not add up when the approver says no', async () => {
    const truth = stack.truths.get('mismatched-invoice.pdf') as InvoiceTruth;
    expect(truth.sums_add_up).toBe(false);
    expect((await stack.start('INV-2025-003', 'mismatched-invoice.pdf')).status).toBe(202);
    const waiting = await stack.waitFor('INV-2025-003', 'awaiting approval', awaitingApproval);
    // Below or above the threshold, sums that disagree always need a person.
    expect(waiting.custom_status).toContain('validation failed');
    expect((await stack.raise('INV-2025-003', 'approval', { approved: false, approver: 'bob', comment: 'subtotal is wrong' })).status).toBe(202);
    const done = await stack.waitFor('INV-2025-003', 'completion', finished);
    const output = result(done);
    expect(done.runtime_status).toBe('COMPLETED');
    expect(output.decision).toBe('rejected');
    expect(output.reason).toBe('rejected by bob: subtotal is wrong');
    expectMatchesTruth(output, truth);
    const sum = truth.line_items.reduce((s, i) => s + i.amount, 0);
    expect(output.invoice.validation.line_items_sum).toBeCloseTo(sum, 2);
    expect(output.invoice.validation.issues).toEqual([`line items add up to ${sum.toFixed(2)} but the subtotal says ${truth.subtotal.toFixed(2)}`]);
  }, 180_000);

  it('rejects an invoice above the threshold when nobody approves it in time', async () => {
    expect((await stack.start('INV-TIMEOUT-1', 'sample-invoice.pdf')).status).toBe(202);
    await stack.waitFor('INV-TIMEOUT-1', 'awaiting approval', awaitingApproval);
    const done = await stack.waitFor('INV-TIMEOUT-1', 'the approval timeout', finished, 180_000);
    expect(done.runtime_status).toBe('COMPLETED');
    expect(done.custom_status).toBe('rejected: approval timed out');
    expect(result(done).decision).toBe('rejected');
    expect(result(done).reason).toMatch(new RegExp(`^no approval within ${APPROVAL_TIMEOUT_SECONDS}s \\(total 9880\\.63 is above`));
    expect(result(done).approval).toBeNull();
    // A late approval is refused and changes nothing.
    expect((await stack.raise('INV-TIMEOUT-1', 'approval', { approved: true })).status).toBe(409);
    expect(result((await stack.get('INV-TIMEOUT-1')) as InstanceView).decision).toBe('rejected');
  }, 240_000);

  it('fails a malformed PDF at the split step with a clear error, without retrying', async () => {
    expect((await stack.start('INV-2025-004', 'malformed-invoice.pdf')).status).toBe(202);
    const done = await stack.waitFor('INV-2025-004', 'failure', finished);
    expect(done.runtime_status).toBe('FAILED');
    expect(done.custom_status).toBe('splitting');
    expect(done.failure?.error_type).toBe('InvoiceProcessingError');
    expect(done.failure?.message).toMatch(/^splitting the PDF failed: split-service\/split answered 422: invoice INV-2025-004: the PDF cannot be read \(.+\)$/);
    // The service refused the file (4xx): one attempt, no retry timers.
    const history = JSON.parse(await stack.weft('history', 'INV-2025-004', '-o', 'json')) as { type: string }[];
    expect(history.filter((e) => e.type === 'TaskFailed')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'TimerCreated')).toHaveLength(0);
  }, 180_000);

  it('terminates a waiting instance and purges it over the HTTP API', async () => {
    expect((await stack.start('INV-TERM-1', 'sample-invoice.pdf')).status).toBe(202);
    await stack.waitFor('INV-TERM-1', 'awaiting approval', awaitingApproval);
    const purgeRunning = await fetch(`${stack.api}/api/workflows/INV-TERM-1/purge`, { method: 'POST' });
    expect(purgeRunning.status).toBe(409);
    expect(((await purgeRunning.json()) as { code: string }).code).toBe('not_finished');
    const terminated = await fetch(`${stack.api}/api/workflows/INV-TERM-1/terminate`, { method: 'POST' });
    expect(terminated.status).toBe(202);
    expect((await stack.waitFor('INV-TERM-1', 'termination', finished)).runtime_status).toBe('TERMINATED');
    expect((await fetch(`${stack.api}/api/workflows/INV-TERM-1`, { method: 'DELETE' })).status).toBe(200);
    expect(await stack.get('INV-TERM-1')).toBeUndefined();
    // Purging removes the page workflows too, as Dapr's recursive purge does.
    await expect(stack.weft('get', 'INV-TERM-1-page-3')).rejects.toThrow(/no workflow instance INV-TERM-1-page-3/);
    expect((await fetch(`${stack.api}/api/workflows/INV-TERM-1/terminate`, { method: 'POST' })).status).toBe(404);
  }, 180_000);

  it('keeps an instance and its approval deadline across a crash of the workflow app and its sidecar', async () => {
    expect((await stack.start('INV-RESTART-1', 'sample-invoice.pdf')).status).toBe(202);
    const before = await stack.waitFor('INV-RESTART-1', 'awaiting approval', awaitingApproval);
    await stack.kill(stack.workflowAppId);
    await stack.restart(stack.workflowAppId);
    // Nobody approves: the timer created before the crash rejects it (a restart does not start a new wait).
    const done = await stack.waitFor('INV-RESTART-1', 'the approval timeout', finished, 180_000);
    expect(done.runtime_status).toBe('COMPLETED');
    expect(done.created_at).toBe(before.created_at);
    expect(result(done).decision).toBe('rejected');
    expect(result(done).reason).toMatch(new RegExp(`^no approval within ${APPROVAL_TIMEOUT_SECONDS}s`));
    expectMatchesTruth(result(done), stack.truths.get('sample-invoice.pdf') as InvoiceTruth);
    const history = JSON.parse(await stack.weft('history', 'INV-RESTART-1', '-o', 'json')) as { type: string }[];
    expect(history.filter((e) => e.type === 'TimerCreated')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'TimerFired')).toHaveLength(1);
    // The restarted app serves new work as before.
    expect((await stack.start('INV-RESTART-2', 'small-invoice.pdf')).status).toBe(202);
    expect(result(await stack.waitFor('INV-RESTART-2', 'completion', finished)).decision).toBe('auto_approved');
  }, 240_000);

  it('still completes, each page extracted once, when extract-service is killed mid-fan-out and restarted', async () => {
    const truth = stack.truths.get('sample-invoice.pdf') as InvoiceTruth;
    const id = 'INV-CRASH-1';
    const mark = stack.output().length;
    expect((await stack.start(id, 'sample-invoice.pdf')).status).toBe(202);
    // extract-service logs each page as it starts; pages then take EXTRACT_DELAY_MS, so the kill lands mid-request.
    await until('extract-service to start on a page', async () => (stack.output().slice(mark).includes(`"invoice_id":"${id}"`) && /extracting page/.test(stack.output().slice(mark)) ? true : undefined), 120_000);
    await stack.kill('extract-service');
    await until('a failed extraction attempt', async () => {
      for (const page of [1, 2, 3]) {
        const history = JSON.parse(await stack.weft('history', `${id}-page-${page}`, '-o', 'json')) as { type: string }[];
        if (history.some((e) => e.type === 'TaskFailed')) return true;
      }
      return undefined;
    }, 120_000);
    await stack.restart('extract-service');

    await stack.waitFor(id, 'awaiting approval', awaitingApproval, 240_000);
    expect((await stack.raise(id, 'approval', { approved: true })).status).toBe(202);
    const done = await stack.waitFor(id, 'completion', finished);
    expect(done.runtime_status).toBe('COMPLETED');
    expectMatchesTruth(result(done), truth);
    // The retries are in the page workflows' histories: a failed attempt, a timer, a successful one.
    let failed = 0;
    for (const page of [1, 2, 3]) {
      const history = JSON.parse(await stack.weft('history', `${id}-page-${page}`, '-o', 'json')) as { type: string }[];
      failed += history.filter((e) => e.type === 'TaskFailed').length;
      expect(history.filter((e) => e.type === 'TaskCompleted'), `page ${page}`).toHaveLength(1);
      expect(history.filter((e) => e.type === 'TimerCreated').length, `page ${page}`).toBe(history.filter((e) => e.type === 'TaskFailed').length);
    }
    expect(failed).toBeGreaterThan(0);
  }, 400_000);
});
