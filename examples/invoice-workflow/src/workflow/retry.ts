/**
 * Retry policies for workflow activities. `@dapr/dapr` 3.18's `callActivity` takes no retry options
 * (Dapr's Python and .NET SDKs do), so the policy is applied in the orchestrator itself: a failed
 * attempt is followed by a durable timer and a new attempt. Both are recorded in the history, so the
 * retries survive restarts and replay deterministically, and `weft workflow history` shows each one.
 */
import type { Task, WorkflowContext } from '@dapr/dapr';

/** The same fields as Dapr's `WorkflowRetryPolicy`. */
export interface RetryPolicy {
  maxNumberOfAttempts: number;
  firstRetryIntervalSeconds: number;
  backoffCoefficient: number;
  maxRetryIntervalSeconds: number;
}

/** The failure details the SDK attaches to a failed task (`TaskFailedError`, not exported by the SDK). */
interface FailedTask {
  details?: { errorType?: string; message?: string };
}

/** The failed task's error class (`PermanentError`, `TransientError`, …) and message. */
export function failureOf(err: unknown): { type: string; message: string } {
  const details = (err as FailedTask | undefined)?.details;
  return { type: details?.errorType ?? (err as Error | undefined)?.name ?? 'Error', message: details?.message ?? String((err as Error | undefined)?.message ?? err) };
}

/** Seconds to wait before attempt `attempt + 1`. */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxRetryIntervalSeconds, policy.firstRetryIntervalSeconds * policy.backoffCoefficient ** (attempt - 1));
}

/**
 * Runs `schedule()` (an activity call) until it succeeds, the policy gives up, or it fails with a
 * `PermanentError` (the callee refused the request: trying again cannot help). Use with `yield*`.
 */
export async function* withRetry<T>(ctx: WorkflowContext, policy: RetryPolicy, schedule: () => Task<T>): AsyncGenerator<Task<unknown>, T, unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (yield schedule()) as T;
    } catch (err) {
      const failure = failureOf(err);
      if (failure.type === 'PermanentError' || attempt >= policy.maxNumberOfAttempts) throw err;
      yield ctx.createTimer(retryDelaySeconds(policy, attempt));
    }
  }
}
