/**
 * The workflow backend contract: durable storage for instances, their history, each instance's inbox
 * (pending orchestrator events; a durable timer is an inbox event that becomes visible at its fire
 * time) and the activity task queue. Leases (owner + expiry) on instances and activities let several
 * sidecars share one database; an expired lease hands the work to whoever asks next.
 *
 * Deliberately not in the contract: replay, action handling and dispatch to SDK workers (the engine
 * owns those, identically for every driver), and any notion of app channel or gRPC.
 */
import type { FailureDetails, HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';

/** An inbox event with its position (the order events reach the orchestrator). */
export interface InboxMessage {
  seq: number;
  event: HistoryEvent;
}

/** A locked instance with its full history and the inbox events visible now. */
export interface OrchestrationWorkItem {
  instance: InstanceRecord;
  /** The history; only the events from position {@link historyFrom} on when that is set. */
  history: HistoryEvent[];
  messages: InboxMessage[];
  /**
   * Set by a backend that honoured a {@link KnownHistory} hint: `history` holds the events after the
   * first `historyFrom` (which the caller already has). Absent: `history` is the whole history.
   */
  historyFrom?: number;
}

/**
 * What the caller already holds of an instance's history (see {@link WorkflowBackend.lockNextOrchestration}):
 * the first `length` events of execution `executionId`. Within one execution the history only grows,
 * so a backend may return just the events after them.
 */
export interface KnownHistory {
  executionId: string;
  length: number;
}

/**
 * Who takes an instance freed for dispatch by an activity result (see
 * {@link WorkflowBackend.completeActivityAndLock}): the lease, and what the caller holds of its history.
 */
export interface OrchestrationLockRequest {
  owner: string;
  leaseMs: number;
  /** As for {@link WorkflowBackend.lockNextOrchestration}: a backend may then return only the events after it. */
  known?: ((instanceId: string) => KnownHistory | undefined) | undefined;
}

/** What {@link WorkflowBackend.completeActivityAndLock} did. */
export interface ActivityCompletion {
  /** The result was stored (false: the task was completed already). */
  accepted: boolean;
  /** The instance, locked to the requesting owner with the result among its messages, when it was free. */
  item?: OrchestrationWorkItem;
}

/** A locked activity task. */
export interface ActivityWorkItem {
  instanceId: string;
  taskId: number;
  executionId: string;
  name: string;
  input: string | null;
  /** 1 on first delivery; higher values are redeliveries (at-least-once). */
  attempt: number;
}

/** An instance to create, with its `ExecutionStarted` event. */
export interface NewInstance {
  instanceId: string;
  name: string;
  input: string | null;
  executionId: string;
  createdAt: Date;
  scheduledStartAt: Date | null;
  parentInstanceId: string | null;
  parentTaskId: number | null;
  startEvent: HistoryEvent;
}

/** An event for some instance's inbox, visible from `visibleAt` (a durable timer when in the future). */
export interface OutgoingMessage {
  instanceId: string;
  event: HistoryEvent;
  visibleAt: Date;
}

/** Everything one orchestrator step changes, applied in one transaction by {@link WorkflowBackend.commitStep}. */
export interface OrchestrationStep {
  instanceId: string;
  /** The execution the step ran against; the commit is refused if the instance moved on. */
  executionId: string;
  /** Inbox events the step consumed. */
  consumedSeqs: number[];
  /** Drop the whole history first (continue-as-new), together with pending activities and timers. */
  resetHistory: boolean;
  appendHistory: HistoryEvent[];
  /** New status; a RUNNING step of an instance suspended meanwhile stays SUSPENDED (`statusAfterStep` in `transitions.ts`). */
  status: WorkflowStatus;
  /** Replaces the stored input (continue-as-new). */
  input?: string | null;
  /** Replaces the execution id (continue-as-new). */
  newExecutionId?: string;
  output: string | null;
  customStatus: string | null;
  failure: FailureDetails | null;
  activities: { taskId: number; name: string; input: string | null }[];
  /**
   * Push dispatch: lease the first `max` of `activities` to the committing owner in the same
   * transaction (attempt 1), so the engine sends them at once instead of claiming them afterwards.
   */
  lockActivities?: { leaseMs: number; max: number };
  messages: OutgoingMessage[];
  /** Child instances to create; an existing finished instance of the same id is replaced. */
  newInstances: NewInstance[];
}

/**
 * An instance made from another one's history (a rerun): RUNNING from the start with `history`, and
 * the work its pending steps need queued at once, as if a step had just scheduled it.
 */
export interface ForkedInstance {
  instanceId: string;
  name: string;
  input: string | null;
  executionId: string;
  createdAt: Date;
  history: HistoryEvent[];
  activities: { taskId: number; name: string; input: string | null }[];
  /** Its own inbox events (timers, visible at their fire time). */
  messages: OutgoingMessage[];
  /** Child instances it starts. */
  newInstances: NewInstance[];
}

/** Filters for listing and purging instances. */
export interface InstanceFilter {
  statuses?: WorkflowStatus[];
  name?: string;
  instanceIdPrefix?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Last change (for a finished instance: when it finished) at or before this time (retention). */
  updatedTo?: Date;
}

/** An instance changed recently, reduced to what the health overview needs. */
export interface RecentInstance {
  name: string;
  status: WorkflowStatus;
  createdAt: number;
  updatedAt: number;
}

/** A page of instances, newest first. */
export interface InstancePage {
  instances: InstanceRecord[];
  /** Pass back as `continuationToken` for the next page; absent on the last page. */
  continuationToken?: string;
}

/** An unfinished instance with work waiting, and since when it has made no progress. */
export interface PendingWorkInstance {
  instanceId: string;
  /** The later of its last committed change and its oldest waiting work (visible inbox event or queued activity). */
  idleSince: Date;
  /**
   * RUNNING with nothing pending at all: no inbox event (not even a timer), no activity, no lock. Either
   * it waits for an external event, or it waits for work that can no longer arrive (the engine tells
   * them apart from the history).
   */
  nothingPending?: boolean;
}

/** Result of a termination. */
export type TerminateResult = { found: false } | { found: true; alreadyFinished: boolean; children: string[] };

/** Durable storage of workflow state for one app id. */
export interface WorkflowBackend {
  /** Creates an instance; returns false if one with that id exists and is not finished (a finished one is replaced). */
  createInstance(instance: NewInstance): Promise<boolean>;
  /**
   * Creates a forked instance (rerun) with its history, activities, timers and children in one
   * transaction. Creates nothing and returns the id in the way when the instance or one of the
   * children already exists, in any state.
   */
  createForkedInstance(instance: ForkedInstance): Promise<string | undefined>;
  /** Appends an event to an instance's inbox; false if the instance does not exist or is finished. */
  enqueue(message: OutgoingMessage): Promise<boolean>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  getHistory(instanceId: string): Promise<HistoryEvent[]>;
  listInstances(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage>;
  /** Exact instance counts per status under the filter (read from an index, never the rows). */
  countInstances(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>>;
  /**
   * Instances whose last change is at or after `since`, as (name, status, created, updated) only: the
   * health overview's durations. Reads the status index's range, not the whole table.
   */
  recentInstances(since: Date): Promise<RecentInstance[]>;

  /**
   * Locks the instance whose oldest visible inbox event is oldest, if any, passing over the instances
   * in `skip` (the engine holds them back while more of their activity results are due: fan-out
   * coalescing). `known`, when given, tells what the caller holds of an instance's history: a backend
   * may then read only the events after it (setting `historyFrom`) when the instance is still on that
   * execution and its history has at least that many events. Honouring the hint is optional; a
   * backend that ignores it returns the whole history.
   */
  lockNextOrchestration(
    owner: string,
    leaseMs: number,
    now: Date,
    skip?: ReadonlySet<string>,
    known?: (instanceId: string) => KnownHistory | undefined,
  ): Promise<OrchestrationWorkItem | undefined>;
  /** Applies a step if `owner` still holds the lock on that execution; releases the lock either way. */
  commitStep(owner: string, step: OrchestrationStep, now: Date): Promise<boolean>;
  /** Releases an instance lock without changes (the work becomes available again). */
  releaseOrchestration(owner: string, instanceId: string): Promise<void>;

  /** Locks up to `max` of the oldest activity tasks that are free or whose lease expired, in one statement, oldest first. */
  lockActivities(owner: string, leaseMs: number, now: Date, max: number): Promise<ActivityWorkItem[]>;
  /** Removes the task and puts its result event in the instance's inbox; false if already completed. */
  completeActivity(instanceId: string, taskId: number, event: HistoryEvent, now: Date): Promise<boolean>;
  /**
   * Optional (push dispatch of results): {@link completeActivity}, and in the same transaction, when
   * the result was accepted and its instance is free (unfinished, not suspended, not locked by anyone,
   * its scheduled start reached), locks the instance to `lock.owner` and returns its work item, as
   * {@link lockNextOrchestration} would have (every visible inbox event, the result among them). The
   * caller dispatches it at once instead of claiming it. A repeated completion locks nothing. The
   * engine asks only when it would dispatch the instance now (not while fan-out coalescing holds it
   * back); a backend without it is driven by {@link completeActivity} and a claim.
   */
  completeActivityAndLock?(instanceId: string, taskId: number, event: HistoryEvent, now: Date, lock: OrchestrationLockRequest): Promise<ActivityCompletion>;
  releaseActivity(owner: string, instanceId: string, taskId: number): Promise<void>;

  /** Extends every lease `owner` holds. */
  renewLeases(owner: string, leaseMs: number, now: Date): Promise<void>;
  /** The earliest future inbox visibility or lease expiry, to know when to look again. */
  nextWakeAt(now: Date): Promise<Date | undefined>;

  /**
   * Unfinished, unsuspended instances that have work waiting now (a visible inbox event or a queued
   * activity) and have made no progress since at or before `idleBefore` (stuck-instance detection),
   * and RUNNING ones idle since then with nothing pending at all (`nothingPending`). Served by an
   * index on status: finished instances are never scanned.
   */
  idleWithPendingWork(idleBefore: Date, now: Date): Promise<PendingWorkInstance[]>;

  /**
   * Marks an instance TERMINATED with the given output, drops its pending work, notifies its parent:
   * applies `planTerminate` (`transitions.ts`, where the lifecycle rules live) atomically.
   */
  terminate(instanceId: string, output: string | null, now: Date): Promise<TerminateResult>;
  /** Sets SUSPENDED (true) or back to RUNNING/PENDING (false) as `planSuspend` says; returns the previous status, undefined if unknown. */
  setSuspended(instanceId: string, suspended: boolean, now: Date): Promise<WorkflowStatus | undefined>;
  /** Deletes a finished instance and, recursively, its finished children (`purgeable`); returns how many were deleted. */
  purge(instanceId: string): Promise<number>;
  /**
   * Purges finished instances matching the filter (at most `limit` top-level ones per call, so
   * retention works in bounded transactions); returns how many were deleted, children included.
   */
  purgeWhere(filter: InstanceFilter, limit?: number): Promise<number>;

  /**
   * Optional: calls `onWork` when another process (another replica's sidecar or client) made work
   * available in this store, so the engine looks at once instead of at its next poll. Work this
   * backend object created itself is not reported (its engine already knows). Stops on `close()`.
   * `onError` hears about a lost notification channel (the poll still covers it meanwhile).
   */
  watchNewWork?(onWork: () => void, onError: (err: unknown) => void): void;

  close(): Promise<void>;
}
