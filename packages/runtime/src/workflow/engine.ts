/**
 * The workflow engine of one sidecar: client operations (start, query, raise, terminate, suspend,
 * resume, purge, wait) and the worker side (streams, completions), over a {@link WorkflowBackend}.
 * Termination, suspension and purging are applied directly to the store, so they work with no app
 * attached; everything an orchestrator decides is applied in one transaction per step.
 */
import { randomUUID } from 'node:crypto';
import { GrpcCode, workflowErrors } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { ActivityCompletion, ForkedInstance, InstanceFilter, InstancePage, OrchestrationStep, PendingWorkInstance, RecentInstance, WorkflowBackend } from './backend.js';
import { DebugPoints } from './debug-points.js';
import { Dispatcher } from './dispatcher.js';
import type { DispatchStats, TooLargeHandler, WorkItemTooLargeError, WorkerStream } from './dispatcher.js';
import { ev, fromTimestamp } from './history.js';
import { HistoryCache } from './history-cache.js';
import type { WorkflowObserver, WorkflowOperation } from './observer.js';
import { checkRerunSource, planRerun, rerunInstanceId } from './rerun.js';
import type { RerunRequest } from './rerun.js';
import { planStep } from './step.js';
import type { OrchestratorResult } from './step.js';
import type { FailureDetails, HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';
import { isTerminal } from './types.js';
import { purgeable, statusesAfterStep } from './transitions.js';
import type { Tracer } from '../observability/tracing.js';
import { WorkflowTracing, startedEventOf } from './workflow-tracing.js';

/** Engine settings. */
export interface WorkflowEngineOptions {
  backend: WorkflowBackend;
  logger: Logger;
  /** Lease on locked instances and activities; renewed while in flight. @default 30000 */
  leaseMs?: number;
  /**
   * Work items in flight per worker stream. The `@dapr/dapr` worker runs 10 and queues 100, and drops
   * what comes beyond that without a word: 100 in flight (what the sidecar has not seen answered) never
   * overfills it, since an answered item leaves the worker's count no later than the sidecar's. @default 100
   */
  maxPerStream?: number;
  /**
   * Fan-out coalescing: after an activity result, while more activities of the instance are out here,
   * its orchestrator waits for them at most this long (0: dispatch at every result). @default 20
   */
  coalesceMs?: number;
  /** @default 100 */
  maxConcurrentOrchestrations?: number;
  /** @default 100 */
  maxConcurrentActivities?: number;
  /** @default 1000 */
  pollMs?: number;
  /** A work item a live worker stream leaves unanswered this long is redelivered. @default 60000 */
  redeliverAfterMs?: number;
  /** How long an abandoned delivery may still answer (see `Dispatcher`). @default 2000 */
  lateAnswerMs?: number;
  /** An instance with work waiting and no progress for this long is reported as stuck. @default 300000 */
  stuckAfterMs?: number;
  /** `WEFT_DEBUG_POINTS` specification. */
  debugPoints?: string;
  /** Finished instances whose last change is older than this are purged periodically; off when absent. */
  retentionMs?: number;
  /** Orchestration, activity and timer spans (see `workflow-tracing.ts`); absent when tracing is off. */
  tracer?: Pick<Tracer, 'startSpan' | 'startSpanFromHeaders'> | undefined;
  /** Receives metric events (`dapr_runtime_workflow_*`); none when absent. */
  observer?: WorkflowObserver;
  /**
   * The largest encoded work item a worker can receive (`@dapr/dapr` workers accept 128 MiB, other
   * SDKs' defaults are 4 MiB). Read by the worker stream's encoder; a larger orchestration work item
   * fails its instance, a larger activity request fails the activity. @default 134217728
   */
  maxWorkItemBytes?: number;
}

/** `errorType` of the failure recorded for a work item too large to send. */
export const WORK_ITEM_TOO_LARGE = 'WorkItemTooLarge';

/** A request to start an instance. */
export interface StartRequest {
  instanceId?: string;
  name: string;
  input: string | null;
  scheduledStartAt?: Date;
  /** The start request's trace context (its API span). */
  trace?: { traceparent?: string | undefined; tracestate?: string | undefined } | undefined;
}

/** An activity result from a worker. */
export interface ActivityResult {
  instanceId: string;
  taskId: number;
  result: string | null;
  failure: FailureDetails | null;
  /** The delivery's completion token, when the worker echoes it. */
  completionToken?: string | undefined;
}

/** Time since the first orchestrator run of the current execution (daprd's execution latency); 0 if it never ran. */
function executionLatency(history: readonly HistoryEvent[], nowMs: number): number {
  const first = history.find((e) => e.orchestratorStarted);
  return first ? nowMs - fromTimestamp(first.timestamp).getTime() : 0;
}

/** Finished instances purged per retention transaction. */
const RETENTION_BATCH = 200;

/** One sidecar's workflow engine. */
export class WorkflowEngine {
  readonly backend: WorkflowBackend;
  private readonly dispatcher: Dispatcher;
  private readonly logger: Logger;
  private readonly debug: DebugPoints;
  private readonly owner = `weft-${randomUUID()}`;
  private readonly listeners = new Map<string, Set<(statuses?: readonly WorkflowStatus[]) => void>>();
  private closed = false;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private readonly leaseMs: number;
  /** Threshold of {@link WorkflowEngine.stuckInstances}. */
  readonly stuckAfterMs: number;
  /** See {@link WorkflowEngineOptions.maxWorkItemBytes}. */
  readonly maxWorkItemBytes: number;
  private stuckCached = 0;
  private stuckSnapshot = new Map<string, Date>();
  /** RUNNING instances the last stuck scan found waiting for an external event, with their last-change time. */
  private waitingForEvent = new Map<string, number>();
  private readonly stuckTimer: NodeJS.Timeout;
  private readonly tracing: WorkflowTracing | undefined;
  private readonly observer: WorkflowObserver | undefined;
  /** Histories of the instances running here, so a step's work item reads only what is new. */
  private readonly histories = new HistoryCache();

  constructor(options: WorkflowEngineOptions) {
    this.backend = options.backend;
    this.observer = options.observer;
    this.tracing = options.tracer ? new WorkflowTracing(options.tracer) : undefined;
    const tracing = this.tracing;
    this.logger = options.logger;
    this.debug = new DebugPoints(options.debugPoints);
    this.stuckAfterMs = options.stuckAfterMs ?? 300_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxWorkItemBytes = options.maxWorkItemBytes ?? 128 * 1024 * 1024;
    this.dispatcher = new Dispatcher({
      backend: this.histories.wrap(this.backend),
      logger: options.logger,
      debug: this.debug,
      owner: this.owner,
      leaseMs: this.leaseMs,
      maxPerStream: options.maxPerStream ?? 100,
      coalesceMs: options.coalesceMs ?? 20,
      maxOrchestrations: options.maxConcurrentOrchestrations ?? 100,
      maxActivities: options.maxConcurrentActivities ?? 100,
      pollMs: options.pollMs ?? 1000,
      redeliverAfterMs: options.redeliverAfterMs ?? 60_000,
      lateAnswerMs: options.lateAnswerMs ?? 2000,
      activityTrace: tracing ? (item) => tracing.activityStarted(item, () => this.backend.getHistory(item.instanceId)) : undefined,
      observer: options.observer,
      onTooLarge: (item, error) => void this.answerTooLarge(item, error),
    });
    // Other replicas' new work wakes the dispatcher at once where the store can tell (Postgres NOTIFY).
    this.backend.watchNewWork?.(
      () => this.dispatcher.kick(),
      (err) => this.logger.warn('lost the notification channel for new workflow work; polling until it is back', { error: String(err) }),
    );
    // Cached for synchronous readers (metadata, the metrics gauge); refreshed a few times per threshold.
    this.stuckTimer = setInterval(() => void this.refreshStuckCount(), Math.max(250, Math.min(15_000, Math.floor(this.stuckAfterMs / 4))));
    this.stuckTimer.unref();
    const retentionMs = options.retentionMs;
    if (retentionMs !== undefined) {
      // Runs whether or not an app is attached: retention is a property of the store.
      const sweep = () => {
        this.purgeExpired(retentionMs).catch((err: unknown) => this.logger.warn('workflow retention sweep failed', { error: String(err) }));
      };
      this.retentionTimer = setInterval(sweep, Math.min(60_000, Math.max(1000, Math.floor(retentionMs / 10))));
      this.retentionTimer.unref();
      setImmediate(sweep);
    }
  }

  /**
   * Instances that have work waiting (an event to process or a queued activity) and no committed
   * progress for {@link stuckAfterMs}: no worker for their workflow, a worker that drops work, a
   * wedged activity. `stuckSince` is when the stall began.
   */
  async stuckInstances(now = new Date()): Promise<{ instanceId: string; stuckSince: Date }[]> {
    const idle: PendingWorkInstance[] = await this.backend.idleWithPendingWork(new Date(now.getTime() - this.stuckAfterMs), now);
    const stuck: { instanceId: string; stuckSince: Date }[] = [];
    const waiting = new Map<string, number>();
    let checked = 0;
    for (const i of idle) {
      if (i.nothingPending) {
        // Unchanged since the last scan found it waiting for an external event: its history is the same.
        const since = i.idleSince.getTime();
        if (this.waitingForEvent.get(i.instanceId) === since) {
          waiting.set(i.instanceId, since);
          continue;
        }
        // SQLite reads resolve at once: give the event loop a turn now and then, so thousands of
        // history reads never hold up API requests (the dashboard's pages) in one long block.
        if (++checked % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        const verdict = await this.waitsForLostWork(i.instanceId);
        // Only "nothing open at all" is cached: a live child can still vanish without telling its parent.
        if (verdict === 'event') waiting.set(i.instanceId, since);
        if (verdict !== 'lost') continue;
      }
      stuck.push({ instanceId: i.instanceId, stuckSince: i.idleSince });
    }
    this.waitingForEvent = waiting;
    this.stuckSnapshot = new Map(stuck.map((s) => [s.instanceId, s.stuckSince]));
    return stuck;
  }

  /**
   * Whether a RUNNING instance with nothing pending waits for an activity, timer or child whose
   * result can no longer arrive (no queued task, no inbox event, the child gone or finished): `lost`.
   * One that waits for nothing in its history waits for an external event (`event`), one that waits
   * for a live child waits for it (`child`): neither is stuck.
   */
  private async waitsForLostWork(instanceId: string): Promise<'lost' | 'child' | 'event'> {
    const history = await this.backend.getHistory(instanceId);
    const open = new Map<number, string | undefined>();
    for (const e of history) {
      if (e.taskScheduled || e.timerCreated) open.set(e.eventId, undefined);
      else if (e.subOrchestrationInstanceCreated) open.set(e.eventId, e.subOrchestrationInstanceCreated.instanceId);
      const done = e.taskCompleted?.taskScheduledId ?? e.taskFailed?.taskScheduledId ?? e.timerFired?.timerId
        ?? e.subOrchestrationInstanceCompleted?.taskScheduledId ?? e.subOrchestrationInstanceFailed?.taskScheduledId;
      if (done !== undefined) open.delete(done);
    }
    for (const child of open.values()) {
      if (child === undefined) return 'lost';
      const c = await this.backend.getInstance(child);
      if (!c || isTerminal(c.status)) return 'lost';
    }
    return open.size > 0 ? 'child' : 'event';
  }

  /** Stuck instances as of the last scan (the list API marks them; it never scans per page). */
  get stuckSnapshotMap(): ReadonlyMap<string, Date> {
    return this.stuckSnapshot;
  }

  /** Re-counts stuck instances now; the count is what {@link stuckCount} returns afterwards. */
  async refreshStuckCount(): Promise<number> {
    if (this.closed) return this.stuckCached;
    try {
      this.stuckCached = (await this.stuckInstances()).length;
    } catch (err) {
      this.logger.warn('counting stuck workflow instances failed', { error: String(err) });
    }
    return this.stuckCached;
  }

  /** Stuck instances as of the last periodic count. */
  get stuckCount(): number {
    return this.stuckCached;
  }

  /** Purges finished instances (and their children) whose last change is older than `ageMs`; returns how many. */
  async purgeExpired(ageMs: number, now = new Date()): Promise<number> {
    if (this.closed) return 0;
    const started = performance.now();
    let deleted = 0;
    try {
      // Bounded batches, yielding between them: a large backlog never holds one long transaction
      // (on SQLite, the event loop) or starves the steps of running workflows.
      const updatedTo = new Date(now.getTime() - ageMs);
      for (;;) {
        const batch = await this.backend.purgeWhere({ updatedTo }, RETENTION_BATCH);
        deleted += batch;
        if (batch < RETENTION_BATCH || this.closed) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.observer?.operation('purge_workflow', 'failed', performance.now() - started);
      throw err;
    }
    if (deleted > 0) {
      // A sweep that purged something is a purge, as daprd's retention purges are.
      this.observer?.operation('purge_workflow', 'success', performance.now() - started);
      this.logger.info(`workflow retention: purged ${deleted} finished instance(s) older than ${ageMs} ms`);
    }
    return deleted;
  }

  /** Runs a client operation, reporting it to the observer as `success` when `succeeded` holds. */
  private async operation<T>(operation: WorkflowOperation, run: () => Promise<T>, succeeded: (result: T) => boolean = () => true): Promise<T> {
    const observer = this.observer;
    if (!observer) return run();
    const started = performance.now();
    try {
      const result = await run();
      observer.operation(operation, succeeded(result) ? 'success' : 'failed', performance.now() - started);
      return result;
    } catch (err) {
      observer.operation(operation, 'failed', performance.now() - started);
      throw err;
    }
  }

  /** Creates an instance (PENDING until a worker runs it); rejects a duplicate id of an unfinished instance. */
  async start(request: StartRequest): Promise<string> {
    const instanceId = request.instanceId || randomUUID();
    const now = new Date();
    const executionId = randomUUID();
    const scheduling = this.tracing?.scheduling(request.name, instanceId, request.trace);
    const create = () => this.backend.createInstance({
      instanceId,
      name: request.name,
      input: request.input,
      executionId,
      createdAt: now,
      scheduledStartAt: request.scheduledStartAt ?? null,
      parentInstanceId: null,
      parentTaskId: null,
      startEvent: ev.executionStarted(instanceId, request.name, request.input, {
        executionId,
        at: now,
        ...(request.scheduledStartAt ? { scheduledStart: request.scheduledStartAt } : {}),
        trace: scheduling?.start,
      }),
    });
    const created = await this.operation('create_workflow', create, (ok) => ok);
    scheduling?.span.end(created ? {} : { error: true, message: `an active workflow with ID '${instanceId}' already exists` });
    if (!created) {
      throw workflowErrors.start(instanceId, `an active workflow with ID '${instanceId}' already exists`, GrpcCode.ALREADY_EXISTS);
    }
    this.changed(instanceId);
    return instanceId;
  }

  /**
   * Reruns a finished top-level instance from one of its steps (`RerunWorkflowFromEvent`) as a new
   * instance, which starts RUNNING with the source's history up to that step and that step (plus any
   * still unfinished then) scheduled again. Resolves with the new instance's id; refusals are
   * daprd's errors (see `rerun.ts`). The source is left as it is.
   */
  async rerun(request: RerunRequest, trace?: StartRequest['trace']): Promise<string> {
    const newInstanceId = rerunInstanceId(request);
    const source = await this.backend.getInstance(request.sourceInstanceId);
    checkRerunSource(request.sourceInstanceId, source);
    const history = await this.backend.getHistory(request.sourceInstanceId);
    // Traced like a start: the new instance gets an orchestration span of its own under the request's.
    const scheduling = this.tracing?.scheduling(source.name, newInstanceId, trace);
    let taken: string | undefined;
    let fork: ForkedInstance;
    try {
      fork = planRerun(source, history, request, newInstanceId, new Date(), scheduling?.start);
      taken = await this.backend.createForkedInstance(fork);
    } catch (err) {
      scheduling?.span.end({ error: true, message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    scheduling?.span.end(taken === undefined ? {} : { error: true, message: `workflow '${taken}' has already been created` });
    if (taken !== undefined) throw workflowErrors.rerun(`workflow '${taken}' has already been created`, GrpcCode.ALREADY_EXISTS);
    this.changed(newInstanceId, 'all');
    for (const child of fork.newInstances) this.changed(child.instanceId);
    return newInstanceId;
  }

  get(instanceId: string): Promise<InstanceRecord | undefined> {
    return this.backend.getInstance(instanceId);
  }

  history(instanceId: string): Promise<HistoryEvent[]> {
    return this.backend.getHistory(instanceId);
  }

  list(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    return this.backend.listInstances(filter, pageSize, continuationToken);
  }

  /** Exact instance counts per status under the filter. */
  count(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>> {
    return this.backend.countInstances(filter);
  }

  /** Instances changed at or after `since` (name, status, created and last-change times). */
  recent(since: Date): Promise<RecentInstance[]> {
    return this.backend.recentInstances(since);
  }

  /**
   * Delivers an event (buffered until the first run or while suspended); false if the instance is
   * unknown; throws if the store refuses it (the instance has finished).
   */
  raiseEvent(instanceId: string, name: string, input: string | null): Promise<boolean> {
    return this.operation(
      'add_event',
      async () => {
        const accepted = await this.backend.enqueue({ instanceId, event: ev.eventRaised(name, input), visibleAt: new Date() });
        if (!accepted) {
          // Refused: unknown (false, as before) or finished, which is an error, not a silent success.
          const instance = await this.backend.getInstance(instanceId);
          if (!instance) return false;
          throw workflowErrors.raiseEvent(instanceId, `the workflow is ${instance.status} and accepts no more events`, GrpcCode.FAILED_PRECONDITION);
        }
        this.changed(instanceId);
        return true;
      },
      (found) => found,
    );
  }

  /** Terminates an instance and its unfinished children; false if unknown. */
  terminate(instanceId: string, output: string | null, recursive = true): Promise<boolean> {
    // daprd terminates by adding an event to the instance: an `add_event` operation.
    return this.operation('add_event', () => this.terminateTree(instanceId, output, recursive), (found) => found);
  }

  private async terminateTree(instanceId: string, output: string | null, recursive: boolean): Promise<boolean> {
    const result = await this.backend.terminate(instanceId, output, new Date());
    this.histories.drop(instanceId);
    if (!result.found) return false;
    if (this.tracing && !result.alreadyFinished) {
      const history = await this.backend.getHistory(instanceId);
      this.tracing.orchestrationEnded(startedEventOf(history), startedAt(history), 'TERMINATED', null);
    }
    this.changed(instanceId);
    const instance = await this.backend.getInstance(instanceId);
    if (instance?.parentInstanceId) this.changed(instance.parentInstanceId);
    if (!result.alreadyFinished && instance && this.observer) {
      this.observer.execution(instance.name, 'failed', executionLatency(await this.backend.getHistory(instanceId), Date.now()));
    }
    if (recursive) for (const child of result.children) await this.terminateTree(child, output, true);
    return true;
  }

  /** Suspends (true) or resumes (false); false if the instance is unknown. */
  setSuspended(instanceId: string, suspended: boolean): Promise<boolean> {
    return this.operation(
      'add_event',
      async () => {
        const previous = await this.backend.setSuspended(instanceId, suspended, new Date());
        if (previous === undefined) return false;
        this.changed(instanceId);
        return true;
      },
      (found) => found,
    );
  }

  /** Purges a finished instance tree; undefined if unknown, throws if it is still running. */
  purge(instanceId: string): Promise<number | undefined> {
    return this.operation(
      'purge_workflow',
      async () => {
        const instance = await this.backend.getInstance(instanceId);
        if (!instance) return undefined;
        if (!purgeable(instance.status)) {
          throw workflowErrors.purge(instanceId, `workflow is in state ${instance.status}; only finished workflows can be purged`, GrpcCode.FAILED_PRECONDITION);
        }
        return this.backend.purge(instanceId);
      },
      (deleted) => deleted !== undefined,
    );
  }

  purgeWhere(filter: InstanceFilter): Promise<number> {
    return this.operation('purge_workflow', () => this.backend.purgeWhere(filter));
  }

  /**
   * Resolves with the instance once `done` holds (or undefined if it does not exist), re-reading on
   * local changes and at least every second (changes made by other replicas). `done` must depend on
   * the status only: a local change that says which statuses the instance may now have is checked
   * against the last record with each of them, and re-read only if one could satisfy `done` (a step
   * that leaves the instance running costs no read).
   */
  async waitFor(instanceId: string, done: (i: InstanceRecord) => boolean, signal?: AbortSignal): Promise<InstanceRecord | undefined> {
    for (;;) {
      const instance = await this.backend.getInstance(instanceId);
      if (!instance || done(instance) || signal?.aborted || this.closed) return instance;
      await new Promise<void>((resolve) => {
        const set = this.listeners.get(instanceId) ?? new Set<(statuses?: readonly WorkflowStatus[]) => void>();
        this.listeners.set(instanceId, set);
        const finish = () => {
          clearTimeout(timer);
          set.delete(wake);
          if (set.size === 0) this.listeners.delete(instanceId);
          signal?.removeEventListener('abort', finish);
          resolve();
        };
        const wake = (statuses?: readonly WorkflowStatus[]) => {
          if (statuses && !this.closed && statuses.every((status) => !done({ ...instance, status }))) return;
          finish();
        };
        const timer = setTimeout(finish, 1000);
        set.add(wake);
        signal?.addEventListener('abort', finish);
      });
    }
  }

  /** Wakes waiters on the instance and the dispatcher (for `what` may have new work). */
  private changed(instanceId: string, what: 'orchestrations' | 'activities' | 'all' | 'none' = 'orchestrations', statuses?: readonly WorkflowStatus[]): void {
    for (const notify of [...(this.listeners.get(instanceId) ?? [])]) notify(statuses);
    if (what !== 'none') this.dispatcher.kick(what);
  }

  /**
   * Opens a worker stream. `send` returns false when the transport's buffer is full (write
   * backpressure): nothing more goes to the stream until {@link resumeStream}.
   */
  connect(send: WorkerStream['send'], end: () => void): WorkerStream {
    return this.dispatcher.addStream(send, end);
  }

  /** The transport of a stream whose `send` returned false can take more again ('drain'). */
  resumeStream(stream: WorkerStream): void {
    this.dispatcher.resumeStream(stream);
  }

  /** Work items sent to workers so far (orchestrator dispatches, past events they carried, activities). */
  get dispatchStats(): Readonly<DispatchStats> {
    return this.dispatcher.stats;
  }

  /** Closes a worker stream; its unfinished items are redelivered elsewhere. */
  disconnect(stream: WorkerStream): Promise<void> {
    return this.dispatcher.removeStream(stream);
  }

  /**
   * Applies a worker's answer to the orchestration batch it answers (matched by `completionToken`
   * when the worker echoes it); late, duplicate or unknown answers are ignored, never applied to
   * another batch.
   */
  async completeOrchestration(instanceId: string, result: OrchestratorResult, completionToken?: string): Promise<void> {
    const answer = this.dispatcher.answerOrchestration(instanceId, completionToken || undefined);
    if (answer.kind === 'ignore') {
      this.logger.warn(`ignoring orchestrator completion for ${instanceId}: ${answer.reason}`);
      return;
    }
    const inFlight = answer.inFlight;
    const notRegistered = result.actions.find((a) => a.completeOrchestration?.failureDetails?.errorType === 'OrchestratorNotRegisteredError');
    if (notRegistered && inFlight.item.history.length === 0) {
      // As in Dapr, an instance of a workflow no worker knows waits (PENDING) for one that does,
      // instead of failing on the first worker that happens to connect.
      this.logger.warn(`workflow ${inFlight.item.instance.name} of ${instanceId} is not registered by the connected worker: waiting for a worker that registers it`);
      this.dispatcher.park(instanceId, inFlight.item.instance.name, inFlight.stream);
      return;
    }
    const now = new Date();
    const { step, terminate } = planStep(inFlight.item, inFlight.newEvents, result, now);
    // Push dispatch: the activities this step schedules are leased here in its transaction and sent
    // right after it commits, as far as the streams have room; the rest wait for a claim.
    const push = step.activities.length > 0 && !isTerminal(step.status) ? Math.min(step.activities.length, this.dispatcher.activityCapacity()) : 0;
    if (push > 0) step.lockActivities = { leaseMs: this.leaseMs, max: push };
    await this.debug.hit('workflow.step.before-commit');
    const name = inFlight.item.instance.name;
    let committed: boolean;
    try {
      committed = await this.backend.commitStep(this.owner, step, now);
    } catch (err) {
      this.observer?.execution(name, 'recoverable', 0);
      throw err;
    }
    if (this.observer) {
      // A refused commit is run again; a committed end of the instance is its execution.
      if (!committed) this.observer.execution(name, 'recoverable', 0);
      else if (isTerminal(step.status)) {
        const latency = executionLatency([...inFlight.item.history, ...inFlight.newEvents], now.getTime());
        this.observer.execution(name, step.status === 'COMPLETED' ? 'success' : 'failed', latency);
      }
    }
    await this.debug.hit('workflow.step.after-commit');
    if (committed) this.histories.committed(step, inFlight.item.history);
    else this.histories.drop(instanceId);
    if (committed) this.dispatcher.forgetRefusals(instanceId);
    if (committed && this.tracing) this.traceStep(inFlight.item.history, inFlight.newEvents, step);
    if (!committed) this.logger.info(`orchestrator step of ${instanceId} discarded: the instance was terminated or its lease was lost`);
    if (committed && (isTerminal(step.status) || step.resetHistory)) this.dispatcher.forgetQueued(instanceId);
    // Before the push: the activities left queued are due here as well (fan-out coalescing).
    if (committed && !isTerminal(step.status)) this.dispatcher.expectQueued(instanceId, step.activities.length - push);
    if (committed && push > 0) {
      const executionId = step.newExecutionId ?? step.executionId;
      await this.dispatcher.pushActivities(
        step.activities.slice(0, push).map((a) => ({ instanceId, taskId: a.taskId, executionId, name: a.name, input: a.input, attempt: 1 })),
      );
    }
    // Events that reached the instance while it was locked are dispatchable only now; activities
    // the step scheduled and did not push wait in the activity queue.
    // The statuses the instance may have now (a step of a suspended instance leaves it suspended).
    const statuses = committed ? statusesAfterStep(step.status) : undefined;
    this.changed(instanceId, committed && push === step.activities.length ? 'orchestrations' : 'all', statuses);
    for (const m of step.messages) if (m.instanceId !== instanceId) this.changed(m.instanceId);
    for (const t of terminate) await this.terminateTree(t.instanceId, t.reason, true);
  }

  /** Spans of a committed step: timers that fired, activities it scheduled, the end of the orchestration. */
  private traceStep(history: HistoryEvent[], newEvents: HistoryEvent[], step: OrchestrationStep): void {
    const tracing = this.tracing;
    if (!tracing) return;
    const started = startedEventOf(history, newEvents);
    tracing.timersFired(started, history, newEvents);
    tracing.activitiesScheduled(step.instanceId, step.appendHistory);
    const status = step.resetHistory ? 'CONTINUED_AS_NEW' : isTerminal(step.status) ? step.status : undefined;
    if (status) tracing.orchestrationEnded(started, startedAt([...history, ...newEvents]), status, step.failure);
  }

  /** Records an activity result; a repeated completion is ignored. */
  async completeActivity(result: ActivityResult): Promise<void> {
    const taken = this.dispatcher.takeActivity(result.instanceId, result.taskId, result.completionToken || undefined);
    if (taken === 'stale') {
      this.logger.warn(`ignoring result of activity ${result.taskId} of ${result.instanceId}: it answers an earlier delivery`);
      return;
    }
    const inFlight = taken;
    this.tracing?.activityEnded(result.instanceId, result.taskId, result.failure);
    const now = new Date();
    const event = result.failure
      ? ev.taskFailed(result.taskId, result.failure, now)
      : ev.taskCompleted(result.taskId, result.result, now);
    await this.debug.hit('workflow.activity.before-complete');
    const sentHere = inFlight !== undefined;
    // Push dispatch of results: when the orchestrator would be dispatched now, the result locks its
    // instance here in the same transaction (if it is free), so no claim has to find it afterwards.
    let lock = this.backend.completeActivityAndLock ? this.dispatcher.mayLockWithResult(result.instanceId, sentHere) : false;
    if (lock === 'after') {
      // The last result of a fan-out: once its siblings are in, it locks the instance with them all.
      await this.dispatcher.othersStored(result.instanceId);
      lock = this.dispatcher.mayLockWithResult(result.instanceId, sentHere) === true;
    }
    if (sentHere) this.dispatcher.storeBegins(result.instanceId);
    let done: ActivityCompletion;
    try {
      done = lock
        ? await this.histories.completeAndLock(this.backend, result.instanceId, result.taskId, event, now, this.owner, this.leaseMs)
        : { accepted: await this.backend.completeActivity(result.instanceId, result.taskId, event, now) };
    } catch (err) {
      if (inFlight) this.observer?.activityExecution(inFlight.item.name, 'recoverable', performance.now() - inFlight.sentPerf);
      this.dispatcher.activityStored(result.instanceId, sentHere);
      throw err;
    }
    const { accepted, item } = done;
    // Fan-out coalescing: with more of its activities out here, the orchestrator waits for them.
    const held = this.dispatcher.activityStored(result.instanceId, sentHere, item !== undefined);
    // Counted by the sidecar that handed the activity out, once, when its result is stored.
    if (inFlight && accepted) this.observer?.activityExecution(inFlight.item.name, result.failure ? 'failed' : 'success', performance.now() - inFlight.sentPerf);
    await this.debug.hit('workflow.activity.after-complete');
    if (!accepted) this.logger.debug(`ignoring duplicate completion of activity ${result.taskId} of ${result.instanceId}`);
    // A result in the inbox leaves the status as it was (no waiter needs to read it again). An
    // instance locked with it goes to a worker now; otherwise a claim finds it.
    this.changed(result.instanceId, held || item ? 'none' : 'orchestrations', []);
    if (item) await this.dispatcher.adoptOrchestration(item);
  }

  /**
   * Answers a work item that could not be sent because it is too large, in place of its worker: the
   * instance fails (its history no longer fits in a work item, so no worker could ever run it), or the
   * activity fails, non-retriable, so the workflow code sees why.
   */
  private async answerTooLarge(item: Parameters<TooLargeHandler>[0], error: WorkItemTooLargeError): Promise<void> {
    const errorMessage =
      item.kind === 'orchestration'
        ? `the workflow's history no longer fits in a work item: ${error.message}`
        : `the activity's input does not fit in a work item: ${error.message}`;
    this.logger.error(`${item.kind === 'orchestration' ? 'failing workflow' : `failing activity ${item.taskId} of`} ${item.instanceId}: ${errorMessage}`);
    const failureDetails = { errorType: WORK_ITEM_TOO_LARGE, errorMessage, stackTrace: null, innerFailure: null, isNonRetriable: true };
    try {
      if (item.kind === 'orchestration') {
        await this.completeOrchestration(
          item.instanceId,
          { actions: [{ id: -1, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_FAILED', result: null, failureDetails } }], customStatus: null },
          item.token,
        );
      } else {
        await this.completeActivity({ instanceId: item.instanceId, taskId: item.taskId, result: null, failure: failureDetails, completionToken: item.token });
      }
    } catch (err) {
      // Left in flight: redelivered after `redeliverAfterMs`, and answered the same way then.
      this.logger.warn(`recording the failure of ${item.instanceId} failed`, { error: String(err) });
    }
  }

  /** Instances waiting for a worker that registers their workflow (as seen by this sidecar). */
  get waitingForWorker(): ReadonlyMap<string, { name: string; since: Date }> {
    return this.dispatcher.waitingForWorker;
  }

  /** Number of connected worker streams. */
  get workerCount(): number {
    return this.dispatcher.streamCount;
  }

  /** Stops dispatching, releases in-flight work and closes the backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    clearInterval(this.stuckTimer);
    await this.dispatcher.close();
    for (const set of this.listeners.values()) for (const notify of [...set]) notify();
    await this.backend.close();
  }
}

/** When an instance started: its `ExecutionStarted` event's time (now if history has none). */
function startedAt(history: HistoryEvent[]): Date {
  const started = history.find((e) => e.executionStarted);
  return started ? fromTimestamp(started.timestamp) : new Date();
}
