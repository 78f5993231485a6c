/**
 * The lifecycle rules of a workflow instance that are not an orchestrator step: terminate, suspend and
 * resume, purge, and what a step's status does to an instance suspended meanwhile. They live here, once,
 * above the backend contract: a backend reads the instance's {@link InstanceFacts}, asks this module for
 * the plan, and applies the plan atomically, only while the instance still has the facts the plan was
 * made from (SQL drivers read and write in one transaction under the row lock; Redis checks
 * {@link Transition.guard} in the script that applies it; the in-memory store does both at once).
 *
 * Pure functions: no I/O, no clock.
 */
import type { InstanceFilter, OutgoingMessage } from './backend.js';
import { ev } from './history.js';
import type { HistoryEvent, WorkflowStatus } from './types.js';
import { TERMINAL_STATUSES, isTerminal } from './types.js';

/** What the rules need to know of a stored instance. */
export interface InstanceFacts {
  status: WorkflowStatus;
  executionId: string;
  /** It has history (its first step committed): a resumed instance goes back to RUNNING, else PENDING. */
  started: boolean;
  parentInstanceId: string | null;
  parentTaskId: number | null;
}

/** A change of one instance's status, planned from its {@link InstanceFacts}. */
export interface Transition {
  instanceId: string;
  /** The facts the plan was made from: apply it only while the instance still has them. */
  guard: { status: WorkflowStatus; executionId: string; started: boolean };
  status: WorkflowStatus;
  /** Replaces the stored output when present (null clears it). */
  output?: string | null;
  /** Appended to the history. */
  appendHistory: HistoryEvent[];
  /**
   * The instance ended: drop its inbox (timers included) and activities, release its lock, and report
   * its unfinished children (the caller ends them in turn).
   */
  finish: boolean;
  /** For the parent's inbox, delivered only while the parent exists and is unfinished. */
  parentMessage: OutgoingMessage | null;
  /** Work became available (for the parent, or the instance itself): other replicas should look. */
  wakes: boolean;
  /** The time of the change (last update). */
  at: Date;
}

/** What {@link planTerminate} decided. */
export type TerminatePlan = { kind: 'unknown' } | { kind: 'finished' } | { kind: 'apply'; transition: Transition };

/** The parent's notification for a child that ended without completing (terminated). */
export function terminatedChildEvent(taskId: number, instanceId: string, now: Date): HistoryEvent {
  return ev.subOrchestrationFailed(taskId, { errorType: 'WorkflowTerminated', errorMessage: `child workflow ${instanceId} was terminated` }, now);
}

/**
 * Terminate: an unfinished instance (suspended ones included) becomes TERMINATED with `output`, records
 * `ExecutionTerminated` and `ExecutionCompleted`, loses its pending work and lock, and its parent hears
 * that the child failed as terminated. An unknown or finished instance is left alone.
 */
export function planTerminate(instanceId: string, facts: InstanceFacts | undefined, output: string | null, now: Date): TerminatePlan {
  if (!facts) return { kind: 'unknown' };
  if (isTerminal(facts.status)) return { kind: 'finished' };
  const { parentInstanceId, parentTaskId } = facts;
  return {
    kind: 'apply',
    transition: {
      instanceId,
      guard: guardOf(facts),
      status: 'TERMINATED',
      output,
      appendHistory: [ev.executionTerminated(output, now), ev.executionCompleted('TERMINATED', output, null, now)],
      finish: true,
      parentMessage:
        parentInstanceId !== null && parentTaskId !== null
          ? { instanceId: parentInstanceId, event: terminatedChildEvent(parentTaskId, instanceId, now), visibleAt: now }
          : null,
      wakes: true,
      at: now,
    },
  };
}

/**
 * Suspend (`suspended`) or resume: RUNNING and PENDING instances suspend; a SUSPENDED one resumes to
 * RUNNING once started, else to PENDING. Anything else (suspending a suspended or finished instance,
 * resuming one that is not suspended) changes nothing. No history events: the orchestrator is not told.
 * `previous` is the status before (undefined: unknown instance); `transition` is absent when nothing changes.
 */
export function planSuspend(
  instanceId: string,
  facts: InstanceFacts | undefined,
  suspended: boolean,
  now: Date,
): { previous: WorkflowStatus | undefined; transition?: Transition } {
  if (!facts) return { previous: undefined };
  const previous = facts.status;
  let next: WorkflowStatus | undefined;
  if (suspended && (previous === 'RUNNING' || previous === 'PENDING')) next = 'SUSPENDED';
  if (!suspended && previous === 'SUSPENDED') next = facts.started ? 'RUNNING' : 'PENDING';
  if (!next) return { previous };
  return {
    previous,
    transition: {
      instanceId,
      guard: guardOf(facts),
      status: next,
      appendHistory: [],
      finish: false,
      parentMessage: null,
      // A resumed instance's waiting inbox becomes lockable.
      wakes: !suspended,
      at: now,
    },
  };
}

/**
 * The status an orchestrator step leaves: the one it asks for, except that a RUNNING step of an
 * instance suspended while it ran keeps the instance SUSPENDED (a finishing step still finishes it).
 */
export function statusAfterStep(current: WorkflowStatus, requested: WorkflowStatus): WorkflowStatus {
  return requested === STEP_HELD.requested && current === STEP_HELD.current ? STEP_HELD.current : requested;
}

/** Every status {@link statusAfterStep} can give for `requested`, whatever the current status is (for waiters). */
export function statusesAfterStep(requested: WorkflowStatus): readonly WorkflowStatus[] {
  return requested === STEP_HELD.requested ? [requested, STEP_HELD.current] : [requested];
}

/** The one exception of {@link statusAfterStep}, which the SQL and Lua renderings below are made from. */
const STEP_HELD = { current: 'SUSPENDED', requested: 'RUNNING' } as const satisfies Record<string, WorkflowStatus>;

/** {@link statusAfterStep} as a SQL expression over two expressions of the current and requested status. */
export function statusAfterStepSql(current: string, requested: string): string {
  return `CASE WHEN ${requested} = '${STEP_HELD.requested}' AND ${current} = '${STEP_HELD.current}' THEN '${STEP_HELD.current}' ELSE ${requested} END`;
}

/** {@link statusAfterStep} as Lua statements that set the variable `requested` given `current`. */
export function statusAfterStepLua(current: string, requested: string): string {
  return `if ${requested} == '${STEP_HELD.requested}' and ${current} == '${STEP_HELD.current}' then ${requested} = '${STEP_HELD.current}' end`;
}

/** Purge: only a finished instance may be purged (its children with it, each on the same terms). */
export function purgeable(status: WorkflowStatus): boolean {
  return isTerminal(status);
}

/**
 * The statuses a filtered purge may touch: the filter's finished ones (all finished ones when it names
 * none); empty when it names only unfinished ones (nothing to purge).
 */
export function purgeStatuses(filter: InstanceFilter): WorkflowStatus[] {
  return (filter.statuses ?? TERMINAL_STATUSES).filter(purgeable);
}

/** The number of top-level instances one bounded purge takes (at least one); undefined: no bound. */
export function purgeBatch(limit: number | undefined): number | undefined {
  return limit === undefined ? undefined : Math.max(1, Math.floor(limit));
}

function guardOf(facts: InstanceFacts): Transition['guard'] {
  return { status: facts.status, executionId: facts.executionId, started: facts.started };
}
