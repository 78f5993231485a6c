/**
 * The durable workflow that runs one execution, on the sidecar's workflow engine through
 * `@dapr/dapr`'s WorkflowRuntime. The orchestrator only decides (it is replayed from history, so it
 * does no I/O); activities do the work and record every status change in Postgres.
 *
 * One workflow instance per execution, with the execution id as instance id: `weft workflow get
 * <execution id> --app-id workflow-service` shows the engine's view of the same run.
 */
import type { WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { DelayTaskConfig, HttpTaskConfig, TransformTaskConfig } from '../definitions/model.js';
import type { RunStatus } from '../db/schema.js';
import type { ExecutionPlan, PlannedTask } from './plan.js';
import type { ExecutionStore } from './store.js';
import { TaskError, runHttpTask, runTransform } from './tasks.js';
import type { InvocationTarget } from './tasks.js';

/** Name under which the execution workflow is registered (and scheduled). */
export const EXECUTION_WORKFLOW = 'execute_workflow';
const DELAY_WORKFLOW = 'delay_task';
const RECORD_EXECUTION = 'record_execution';
const RECORD_TASK = 'record_task';
const RUN_TASK = 'run_task';

/** Input of the execution workflow. */
export interface ExecutionInput {
  executionId: string;
  plan: ExecutionPlan;
}

interface RunTaskInput {
  executionId: string;
  task: PlannedTask;
  /** The result of the task named by `input_from`, when it has one. */
  input?: unknown;
}

/**
 * What a task gives back. Task failures are values, not exceptions: `whenAll` in @dapr/dapr 3.18.0
 * cannot deliver a child's failure when that child is the last to finish (its
 * `WhenAllTask.onChildCompleted` calls `getResult()` on the failed task, which throws inside the
 * SDK and fails the instance without running our error handling), so the orchestrator checks
 * outcomes instead.
 */
type TaskOutcome = { ok: true; result: unknown } | { ok: false; error: string };

interface RecordTaskInput {
  executionId: string;
  taskId: string;
  status: RunStatus;
  result?: unknown;
  error?: string;
}

/** Registers the workflow and its activities on `runtime`. */
export function registerExecutionWorkflow(runtime: WorkflowRuntime, store: ExecutionStore, target: InvocationTarget): void {
  const recordExecution = async (_: WorkflowActivityContext, input: { executionId: string; status: RunStatus; error?: string }): Promise<void> => {
    await store.markExecution(input.executionId, input.status, input.error);
  };

  const recordTask = async (_: WorkflowActivityContext, input: RecordTaskInput): Promise<void> => {
    await store.markTask(input.executionId, input.taskId, input.status, { result: input.result, ...(input.error !== undefined ? { error: input.error } : {}) });
  };

  const runTask = async (_: WorkflowActivityContext, { executionId, task, input }: RunTaskInput): Promise<TaskOutcome> => {
    await store.markTask(executionId, task.id, 'RUNNING');
    let result: unknown;
    try {
      if (task.kind === 'http') {
        const config = HttpTaskConfig.parse(task.config);
        result = await runHttpTask(config, config.input_from !== undefined ? input : config.body, target);
      } else if (task.kind === 'transform') {
        const config = TransformTaskConfig.parse(task.config);
        result = runTransform(config, config.input_from !== undefined ? input : config.input);
      } else {
        throw new TaskError(`task kind "${task.kind}" does not run as an activity`);
      }
    } catch (err) {
      const error = err instanceof TaskError ? err.message : `unexpected error: ${(err as Error).message}`;
      await store.markTask(executionId, task.id, 'FAILED', { error });
      return { ok: false, error };
    }
    await store.markTask(executionId, task.id, 'COMPLETED', { result: result ?? null });
    return { ok: true, result: result ?? null };
  };

  // A delay is a durable timer, recorded RUNNING before and COMPLETED after. It is a child workflow
  // so that it can run in parallel with the other tasks of its step (whenAll takes single tasks).
  const delayTask: TWorkflow = async function* (ctx: WorkflowContext, { executionId, task }: RunTaskInput): AsyncGenerator<unknown, TaskOutcome, unknown> {
    const { seconds } = DelayTaskConfig.parse(task.config);
    yield ctx.callActivity(RECORD_TASK, { executionId, taskId: task.id, status: 'RUNNING' } satisfies RecordTaskInput);
    yield ctx.createTimer(seconds);
    const result = { waited_seconds: seconds };
    yield ctx.callActivity(RECORD_TASK, { executionId, taskId: task.id, status: 'COMPLETED', result } satisfies RecordTaskInput);
    return { ok: true, result };
  };

  const executeWorkflow: TWorkflow = async function* (ctx: WorkflowContext, { executionId, plan }: ExecutionInput): AsyncGenerator<unknown, Record<string, unknown>, unknown> {
    yield ctx.callActivity(RECORD_EXECUTION, { executionId, status: 'RUNNING' });
    const results: Record<string, unknown> = {};
    try {
      for (const step of plan) {
        const tasks = step.map((task) =>
          task.kind === 'delay'
            ? ctx.callChildWorkflow(DELAY_WORKFLOW, { executionId, task } satisfies RunTaskInput)
            : ctx.callActivity(RUN_TASK, { executionId, task, input: inputOf(task, results) } satisfies RunTaskInput),
        );
        const outcomes = (step.length === 1 ? [yield tasks[0]!] : yield ctx.whenAll(tasks)) as TaskOutcome[];
        const failedAt = outcomes.findIndex((o) => !o.ok);
        if (failedAt >= 0) {
          const { error } = outcomes[failedAt] as { error: string };
          throw new TaskFailure(`task "${step[failedAt]!.name}" failed: ${error}`);
        }
        step.forEach((task, i) => (results[task.name] = (outcomes[i] as { result: unknown }).result));
      }
    } catch (err) {
      const message = failureMessage(err);
      yield ctx.callActivity(RECORD_EXECUTION, { executionId, status: 'FAILED', error: message });
      // Fail the workflow instance too, so the engine's view (`weft workflow list`) agrees.
      throw new Error(message);
    }
    yield ctx.callActivity(RECORD_EXECUTION, { executionId, status: 'COMPLETED' });
    return results;
  };

  runtime
    .registerWorkflowWithName(EXECUTION_WORKFLOW, executeWorkflow)
    .registerWorkflowWithName(DELAY_WORKFLOW, delayTask)
    .registerActivityWithName(RECORD_EXECUTION, recordExecution)
    .registerActivityWithName(RECORD_TASK, recordTask)
    .registerActivityWithName(RUN_TASK, runTask);
}

/** A task of the execution failed (as opposed to an error of the engine or an activity). */
class TaskFailure extends Error {}

function inputOf(task: PlannedTask, results: Record<string, unknown>): unknown {
  const from = task.config['input_from'];
  return typeof from === 'string' ? results[from] : undefined;
}

/** The activity's own message when the SDK wraps it (TaskFailedError carries it in `details`). */
function failureMessage(err: unknown): string {
  if (err instanceof TaskFailure) return err.message;
  const details = (err as { details?: { message?: string; getErrormessage?: () => string } }).details;
  const inner = details?.message ?? details?.getErrormessage?.();
  return inner ?? (err instanceof Error ? err.message : String(err));
}
