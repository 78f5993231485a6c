/**
 * `invoice_workflow` (the seed's name): upload → split → extract every page in parallel (fan-out to one
 * `extract_page_workflow` child per page, fan-in) → aggregate → approval when needed. Orchestrator code
 * is deterministic: it reads time only from the context and does I/O only through activities.
 */
import type { Task, TWorkflow, WorkflowContext } from '@dapr/dapr';
import { ApprovalEvent, InvoiceWorkflowInput } from '../shared/models.js';
import type { ExtractRequest, Invoice, InvoiceWorkflowResult, PageExtraction, SplitResult, UploadResult } from '../shared/models.js';
import type { ActivityName } from './activities.js';
import { failureOf, withRetry } from './retry.js';
import type { RetryPolicy } from './retry.js';

/** Workflow names, as registered (and as `weft workflow run` takes them). */
export const WORKFLOW_NAME = 'invoice_workflow';
export const EXTRACT_PAGE_WORKFLOW_NAME = 'extract_page_workflow';
/** The external event a person raises to approve or reject an invoice. */
export const APPROVAL_EVENT = 'approval';

/** Quick steps: a few attempts, short waits. */
const SERVICE_RETRY: RetryPolicy = { maxNumberOfAttempts: 5, firstRetryIntervalSeconds: 1, backoffCoefficient: 2, maxRetryIntervalSeconds: 10 };
/** Extraction is the slow, flaky step (OCR-like): more attempts, long enough to outlast a service restart. */
const EXTRACT_RETRY: RetryPolicy = { maxNumberOfAttempts: 8, firstRetryIntervalSeconds: 1, backoffCoefficient: 2, maxRetryIntervalSeconds: 30 };

/** The approval rule, from the workflow app's configuration. */
export interface ApprovalPolicy {
  /** Invoices with a total above this wait for an `approval` event. */
  threshold: number;
  /** Seconds to wait before rejecting. */
  timeoutSeconds: number;
}

/** An error that fails the instance with a message meant for people. */
export class InvoiceProcessingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvoiceProcessingError';
  }
}

function call<T>(ctx: WorkflowContext, name: ActivityName, input: unknown): Task<T> {
  return ctx.callActivity(name, input) as Task<T>;
}

/** Runs one step with its retry policy; a final failure fails the instance with `what` and the cause. */
async function* step<T>(ctx: WorkflowContext, what: string, policy: RetryPolicy, name: ActivityName, input: unknown): AsyncGenerator<Task<unknown>, T, unknown> {
  try {
    return yield* withRetry(ctx, policy, () => call<T>(ctx, name, input));
  } catch (err) {
    throw new InvoiceProcessingError(`${what} failed: ${failureOf(err).message}`);
  }
}

/** One page: extraction with its own retries, so pages retry independently while the others go on. */
export const extractPageWorkflow: TWorkflow = async function* (ctx: WorkflowContext, input: ExtractRequest): AsyncGenerator<unknown, PageExtraction, unknown> {
  return yield* step<PageExtraction>(ctx, `extracting page ${input.page.page_number}`, EXTRACT_RETRY, 'extract_activity', input);
};

/** Needs a person: a total above the threshold, an unknown total, or sums that do not add up. */
export function approvalReason(invoice: Invoice, policy: ApprovalPolicy): string | null {
  if (!invoice.validation.ok) return `validation failed: ${invoice.validation.issues.join('; ')}`;
  if (invoice.total === null) return 'the total could not be read';
  if (invoice.total > policy.threshold) return `total ${invoice.total.toFixed(2)} is above the approval threshold ${policy.threshold.toFixed(2)}`;
  return null;
}

/** Builds the workflow for an approval policy (read from configuration when the app starts). */
export function createInvoiceWorkflow(policy: ApprovalPolicy): TWorkflow {
  return async function* (ctx: WorkflowContext, rawInput: unknown): AsyncGenerator<unknown, InvoiceWorkflowResult, unknown> {
    const parsed = InvoiceWorkflowInput.safeParse(rawInput);
    if (!parsed.success) throw new InvoiceProcessingError(`invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
    const input = parsed.data;

    ctx.setCustomStatus('uploading');
    const upload = yield* step<UploadResult>(ctx, 'upload', SERVICE_RETRY, 'upload_activity', input);

    ctx.setCustomStatus('splitting');
    const split = yield* step<SplitResult>(ctx, 'splitting the PDF', SERVICE_RETRY, 'split_activity', { invoice_id: input.invoice_id, blob_path: upload.blob_path });

    ctx.setCustomStatus(`extracting ${split.page_count} page(s)`);
    const instanceId = ctx.getWorkflowInstanceId();
    const extractions = split.pages.map((page) =>
      ctx.callChildWorkflow<ExtractRequest, PageExtraction>(EXTRACT_PAGE_WORKFLOW_NAME, { invoice_id: input.invoice_id, page }, `${instanceId}-page-${page.page_number}`),
    );
    let pages: PageExtraction[];
    try {
      pages = (yield ctx.whenAll(extractions)) as PageExtraction[];
    } catch (err) {
      throw new InvoiceProcessingError(failureOf(err).message);
    }

    ctx.setCustomStatus('aggregating');
    const invoice = yield* step<Invoice>(ctx, 'aggregating', SERVICE_RETRY, 'aggregate_activity', { invoice_id: input.invoice_id, pages });

    const needsApproval = approvalReason(invoice, policy);
    if (!needsApproval) {
      ctx.setCustomStatus('auto approved');
      return { invoice_id: input.invoice_id, decision: 'auto_approved', reason: `total ${String(invoice.total)} is not above the approval threshold ${policy.threshold}`, approval: null, invoice };
    }

    ctx.setCustomStatus(`awaiting approval: ${needsApproval}`);
    const deadline = new Date(ctx.getCurrentUtcDateTime().getTime() + policy.timeoutSeconds * 1000);
    const approvalTask = ctx.waitForExternalEvent(APPROVAL_EVENT);
    const timeoutTask = ctx.createTimer(deadline);
    const winner = (yield ctx.whenAny([approvalTask, timeoutTask])) as Task<unknown>;
    if (winner !== approvalTask) {
      ctx.setCustomStatus('rejected: approval timed out');
      return { invoice_id: input.invoice_id, decision: 'rejected', reason: `no approval within ${policy.timeoutSeconds}s (${needsApproval})`, approval: null, invoice };
    }
    const event = ApprovalEvent.safeParse(approvalTask.getResult());
    if (!event.success) {
      ctx.setCustomStatus('rejected: invalid approval');
      return { invoice_id: input.invoice_id, decision: 'rejected', reason: `the approval event was not {"approved": true|false}: ${event.error.issues[0]?.message ?? ''}`, approval: null, invoice };
    }
    const by = event.data.approver ? ` by ${event.data.approver}` : '';
    const comment = event.data.comment ? `: ${event.data.comment}` : '';
    ctx.setCustomStatus(event.data.approved ? 'approved' : 'rejected');
    return {
      invoice_id: input.invoice_id,
      decision: event.data.approved ? 'approved' : 'rejected',
      reason: `${event.data.approved ? 'approved' : 'rejected'}${by}${comment}`,
      approval: event.data,
      invoice,
    };
  };
}
