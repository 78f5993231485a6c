/**
 * Starting executions and following them. An execution is recorded in Postgres first (PENDING),
 * then scheduled as a workflow instance whose id is the execution id; its status changes are read
 * back from the execution log, so a stream shows the same thing whichever replica serves it.
 */
import { randomUUID } from 'node:crypto';
import type { DaprWorkflowClient } from '@dapr/dapr';
import type { Logger } from 'pino';
import type { DefinitionService } from '../definitions/service.js';
import { NotFoundError } from '../errors.js';
import { planExecution } from './plan.js';
import { isFinal } from './store.js';
import type { Execution, ExecutionEvent, ExecutionStore } from './store.js';
import { EXECUTION_WORKFLOW } from './workflow.js';
import type { ExecutionInput } from './workflow.js';

/** How often a stream re-reads the log when no in-process change woke it (other replicas' writes). */
const POLL_MS = 500;

/** Starts executions and streams their updates. */
export class ExecutionService {
  constructor(
    private readonly definitions: DefinitionService,
    private readonly store: ExecutionStore,
    private readonly workflows: DaprWorkflowClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts an execution of the workflow (or, for a `requestId` used before, finds that execution and
   * makes sure it was scheduled). Throws NotFoundError / PreconditionError before anything is stored.
   */
  async start(workflowId: string, requestId?: string): Promise<{ executionId: string; created: boolean }> {
    const { workflow } = await this.definitions.get(workflowId);
    const plan = planExecution(workflow);
    const { id, created } = await this.store.create({ id: randomUUID(), workflowId, workflowName: workflow.name, plan, requestId });
    if (created) {
      await this.schedule(id, { executionId: id, plan });
    } else if ((await this.store.get(id))?.status === 'PENDING') {
      // The earlier request may have stopped between recording and scheduling: schedule it now.
      await this.schedule(id, { executionId: id, plan: (await this.store.plan(id)) ?? plan });
    }
    this.logger.info({ executionId: id, workflowId, created }, created ? 'execution started' : 'execution already exists for this request id');
    return { executionId: id, created };
  }

  private async schedule(executionId: string, input: ExecutionInput): Promise<void> {
    try {
      await this.workflows.scheduleNewWorkflow(EXECUTION_WORKFLOW, input, executionId);
    } catch (err) {
      const message = (err as Error).message;
      // Retried start of an execution scheduled before: the instance is there, nothing to do.
      if (/already exists/i.test(message)) return;
      this.logger.error({ executionId, err: message }, 'could not schedule the workflow instance');
      await this.store.markExecution(executionId, 'FAILED', `could not start the workflow on the sidecar: ${message}`);
    }
  }

  /** The execution with its task runs. Throws NotFoundError. */
  async status(executionId: string): Promise<Execution> {
    const execution = await this.store.get(executionId);
    if (!execution) throw new NotFoundError(`execution ${executionId} not found`);
    return execution;
  }

  /**
   * The execution's updates from the beginning, as they are recorded, ending after the workflow's
   * own COMPLETED or FAILED update (or when `signal` aborts). Throws NotFoundError up front.
   */
  async *watch(executionId: string, signal: AbortSignal): AsyncGenerator<ExecutionEvent> {
    await this.status(executionId);
    let after = 0;
    while (!signal.aborted) {
      // Subscribe before reading, so a change recorded between the read and the wait is not missed.
      const changed = this.nextChange(executionId, signal);
      const events = await this.store.events(executionId, after);
      for (const event of events) {
        after = event.id;
        yield event;
        if (event.task_id === null && isFinal(event.status)) {
          changed.cancel();
          return;
        }
      }
      if (events.length === 0) await changed.promise;
      else changed.cancel();
    }
  }

  private nextChange(executionId: string, signal: AbortSignal): { promise: Promise<void>; cancel: () => void } {
    const eventName = `events:${executionId}`;
    let cancel = () => {};
    const promise = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.store.changes.off(eventName, done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      this.store.changes.once(eventName, done);
      signal.addEventListener('abort', done, { once: true });
      cancel = done;
    });
    return { promise, cancel };
  }
}
