/**
 * Hands locked work to connected SDK workers. Each `GetWorkItems` stream gets a bounded number of
 * items at once (the JS worker silently drops anything beyond 10 running + 100 queued), the least
 * busy stream first, and nothing more while its transport asks the writer to wait (gRPC write
 * backpressure); nothing is locked while no stream has room, so work waits in the database until
 * a worker connects. Activities are claimed in batches (one query for as many as the streams take).
 * While an instance has activities out here, their results are coalesced (`fan-out-coalescer.ts`). When a stream ends, its unfinished items are released for redelivery; so is an
 * item a live stream leaves unanswered for `redeliverAfterMs` (a worker may drop work silently). Leases on
 * everything in flight are renewed periodically, so another replica takes over only from a dead one.
 */
import type { Logger } from '../logging/logger.js';
import type { ActivityWorkItem, OrchestrationWorkItem, WorkflowBackend } from './backend.js';
import type { DebugPoints } from './debug-points.js';
import { FanOutCoalescer } from './fan-out-coalescer.js';
import { ev, fromTimestamp, sv } from './history.js';
import type { WorkflowObserver } from './observer.js';
import { orderBatch } from './step.js';
import type { HistoryEvent, TraceContextMessage } from './types.js';

/** A work item as sent on the stream (proto-loader object form of `WorkItem`). */
export type WorkItemMessage =
  | {
      orchestratorRequest: { instanceId: string; executionId: { value: string }; pastEvents: HistoryEvent[]; newEvents: HistoryEvent[] };
      /** Identifies the batch; workers built on newer durabletask protos echo it on completion. */
      completionToken: string;
    }
  | {
      completionToken: string;
      activityRequest: {
        name: string;
        input: { value: string } | null;
        orchestrationInstance: { instanceId: string; executionId: { value: string } };
        taskId: number;
        /** The activity execution's span, so the worker's spans join the trace. */
        parentTraceContext?: TraceContextMessage;
      };
    };

/**
 * Thrown by a stream's `send` for a work item whose encoding exceeds what the worker can receive
 * (a history grown too large, an activity input too big): sending it would end the stream, and the
 * item would be redelivered for ever.
 */
export class WorkItemTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the work item is ${bytes} bytes, more than the ${limit} bytes a worker can receive`);
    this.name = 'WorkItemTooLargeError';
  }
}

/** What the dispatcher does with a work item too large to send (see {@link WorkItemTooLargeError}). */
export type TooLargeHandler = (
  item: { kind: 'orchestration'; instanceId: string; token: string } | { kind: 'activity'; instanceId: string; taskId: number; token: string },
  error: WorkItemTooLargeError,
) => void;

/** A connected worker stream. */
export interface WorkerStream {
  readonly id: number;
  /**
   * Sends an item; throws {@link WorkItemTooLargeError} for one the worker could not receive.
   * Returning `false` (exactly): the item was taken, but the transport's buffer is full; nothing more
   * is sent on the stream until {@link Dispatcher.resumeStream} (on the transport's 'drain'). Any
   * other value means go on.
   */
  send(item: WorkItemMessage): unknown;
  /** Ends the underlying call (sidecar shutdown). */
  end(): void;
  inFlight: number;
  closed: boolean;
  /** The transport asked the writer to wait (write backpressure). */
  paused: boolean;
}

/** What this sidecar has sent to workers (fan-out coalescing is visible in these). */
export interface DispatchStats {
  /** Orchestration work items sent (every delivery, redeliveries included). */
  orchestrations: number;
  /** Past history events those work items carried. */
  pastEvents: number;
  /** Activity work items sent. */
  activities: number;
}

/** An orchestration batch locked here and not yet answered: on a stream, or waiting to be (re)sent. */
export interface InFlightOrchestration {
  /** The stream of its latest delivery; undefined while it waits to be sent (again). */
  stream: WorkerStream | undefined;
  item: OrchestrationWorkItem;
  newEvents: HistoryEvent[];
  /** `Date.now()` of the latest delivery (or of the abandonment, while waiting). */
  sentAt: number;
  /** The batch's completion token; the same on every delivery of the batch. */
  token: string;
  /** How many times the batch was sent; each delivery may answer once. */
  deliveries: number;
  /** Not sent before this `Date.now()` (answers to an earlier batch may still arrive). */
  notBefore: number;
}

/** Answers still expected for a batch that was already answered (duplicates to drop). */
interface DuplicateGuard {
  token: string;
  remaining: number;
  until: number;
}

/** What became of a worker's answer to an orchestration batch. */
export type OrchestrationAnswer =
  | { kind: 'apply'; inFlight: InFlightOrchestration }
  | { kind: 'ignore'; reason: string };

/** An activity sent and not yet completed. */
export interface InFlightActivity {
  stream: WorkerStream;
  item: ActivityWorkItem;
  /** The delivery's completion token. */
  token: string;
  /** `Date.now()` when it was sent. */
  sentAt: number;
  /** `performance.now()` when it was sent (execution latency). */
  sentPerf: number;
}

/** Dispatcher settings. */
export interface DispatcherOptions {
  backend: WorkflowBackend;
  logger: Logger;
  debug: DebugPoints;
  /** Lease owner name of this sidecar. */
  owner: string;
  /** @default 30000 */
  leaseMs: number;
  /** Items in flight per stream. @default 100 */
  maxPerStream: number;
  /**
   * Fan-out coalescing: the longest an instance's orchestrator is held back after an activity result
   * while more of its activities are out here; 0 dispatches at every result. @default 20
   */
  coalesceMs: number;
  /** Orchestration work items in flight per sidecar. @default 100 */
  maxOrchestrations: number;
  /** Activity work items in flight per sidecar. @default 100 */
  maxActivities: number;
  /** Longest wait between looks at the database (other replicas' work, expired leases). @default 1000 */
  pollMs: number;
  /** An item a live stream has not answered after this long is released and dispatched again. @default 60000 */
  redeliverAfterMs: number;
  /**
   * How long an abandoned delivery may still answer: a pinned batch is released to the store (for
   * other replicas) only after this long with no stream, and an instance's next batch waits at most
   * this long for duplicate answers to an answered batch. @default 2000
   */
  lateAnswerMs: number;
  /** Opens an activity execution's span; its context goes to the worker with the request. */
  activityTrace?: ((item: ActivityWorkItem) => Promise<TraceContextMessage | undefined>) | undefined;
  /** Metrics: dispatches, and runs that have to be done again. */
  observer?: WorkflowObserver | undefined;
  /**
   * Answers a work item that was too large to send (the engine fails the instance or the activity),
   * as if its worker had answered: the item counts as sent until then.
   */
  onTooLarge?: TooLargeHandler | undefined;
}

const activityKey = (instanceId: string, taskId: number) => `${instanceId}\u0000${taskId}`;

/** Streams, in-flight work and the dispatch loop of one sidecar. */
export class Dispatcher {
  private readonly streams = new Set<WorkerStream>();
  private readonly orchestrations = new Map<string, InFlightOrchestration>();
  private readonly activities = new Map<string, InFlightActivity>();
  /** Instances whose workflow no connected worker registers: kept locked until a new stream connects. */
  private readonly parked = new Map<string, { name: string; since: Date }>();
  /** Streams that answered an instance with "not registered", so it goes to another stream next. */
  private readonly refused = new Map<string, Set<number>>();
  /** Instances whose last batch was answered while other deliveries of it may still answer. */
  private readonly guards = new Map<string, DuplicateGuard>();
  /** Activities leased here and waiting for a stream with room. */
  private waitingActivities: ActivityWorkItem[] = [];
  /** Activities taken from the store's queue by a claim (not pushed by a step). */
  private readonly claimed = new WeakSet<ActivityWorkItem>();
  private readonly coalescer: FanOutCoalescer;
  /** See {@link DispatchStats}. */
  readonly stats: DispatchStats = { orchestrations: 0, pastEvents: 0, activities: 0 };
  private nextStreamId = 1;
  private nextToken = 1;
  private pumping = false;
  private wantOrchestrations = true;
  private wantActivities = true;
  private again = false;
  private closed = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private holdUntil = Infinity;
  private readonly renewTimer: NodeJS.Timeout;
  private readonly redeliverTimer: NodeJS.Timeout;

  constructor(private readonly o: DispatcherOptions) {
    this.coalescer = new FanOutCoalescer(o.coalesceMs, () => this.kick('orchestrations'));
    this.renewTimer = setInterval(() => {
      if (this.orchestrations.size + this.activities.size + this.parked.size === 0) return;
      this.o.backend.renewLeases(o.owner, o.leaseMs, new Date()).catch((err: unknown) => this.o.logger.warn('lease renewal failed', { error: String(err) }));
    }, Math.max(100, Math.floor(o.leaseMs / 3)));
    this.renewTimer.unref();
    this.redeliverTimer = setInterval(() => {
      this.releaseUnanswered(Date.now()).catch((err: unknown) => this.o.logger.warn('releasing unanswered work items failed', { error: String(err) }));
      // Often enough to hand a batch pinned here with no worker left to other replicas soon after
      // `lateAnswerMs`, and to redeliver unanswered items close to `redeliverAfterMs`.
    }, Math.max(50, Math.min(10_000, Math.floor(o.redeliverAfterMs / 4), Math.floor(o.lateAnswerMs / 2))));
    this.redeliverTimer.unref();
  }

  /**
   * Releases items sent more than `redeliverAfterMs` before `now` and still unanswered, so they are
   * dispatched again (possibly to the same stream). A late answer to a released orchestration item
   * finds no work in flight, or the redelivered one, and is ignored or applied once; a late activity
   * result is accepted once by the store, which ignores the duplicate.
   */
  async releaseUnanswered(now: number): Promise<number> {
    const { backend, owner, redeliverAfterMs } = this.o;
    let released = 0;
    for (const [key, f] of [...this.orchestrations]) {
      if (this.orchestrations.get(key) !== f) continue;
      if (f.stream && now - f.sentAt >= redeliverAfterMs) {
        released += 1;
        this.o.logger.warn(`orchestration work item of ${key} unanswered by stream ${f.stream.id} after ${redeliverAfterMs} ms: redelivering`);
        this.abandon(f, now);
      } else if (!f.stream && this.streams.size === 0 && now - f.sentAt >= this.o.lateAnswerMs) {
        // No worker here for a while: let another replica's worker have it.
        this.orchestrations.delete(key);
        released += 1;
        await backend.releaseOrchestration(owner, key);
      }
    }
    for (const [key, f] of [...this.activities]) {
      if (now - f.sentAt < redeliverAfterMs || this.activities.get(key) !== f) continue;
      this.activities.delete(key);
      f.stream.inFlight -= 1;
      this.coalescer.closed(f.item.instanceId);
      released += 1;
      this.o.logger.warn(`activity ${f.item.name}#${f.item.taskId} of ${f.item.instanceId} unanswered by stream ${f.stream.id} after ${redeliverAfterMs} ms: redelivering`);
      this.o.observer?.activityExecution(f.item.name, 'recoverable', performance.now() - f.sentPerf);
      await backend.releaseActivity(owner, f.item.instanceId, f.item.taskId);
    }
    for (const [id, g] of this.guards) if (g.until <= now) this.guards.delete(id);
    if (released > 0) this.kick();
    return released;
  }

  /**
   * Takes a batch off its stream without an answer. It stays locked here, pinned, and is sent again
   * unchanged: the abandoned delivery may still answer, and its answer must fit the batch it applies to.
   */
  private abandon(f: InFlightOrchestration, now: number): void {
    if (f.stream) f.stream.inFlight -= 1;
    f.stream = undefined;
    f.sentAt = now;
    this.o.observer?.execution(f.item.instance.name, 'recoverable', 0);
  }

  /** Registers a stream; work starts flowing to it at once. */
  addStream(send: WorkerStream['send'], end: () => void): WorkerStream {
    const stream: WorkerStream = { id: this.nextStreamId++, send, end, inFlight: 0, closed: false, paused: false };
    this.streams.add(stream);
    this.o.logger.info(`workflow worker stream ${stream.id} connected (${this.streams.size} open)`);
    // The new worker may register workflows the others did not: give parked instances another run.
    this.unparkAll()
      .catch((err: unknown) => this.o.logger.warn('releasing instances waiting for a worker failed', { error: String(err) }))
      .finally(() => this.kick());
    return stream;
  }

  /**
   * Keeps an instance locked (its lease renewed) without dispatching it, because the worker answered
   * that it does not register the workflow; it is retried when the next worker stream connects.
   */
  park(instanceId: string, name: string, refusedBy?: WorkerStream): void {
    this.parked.set(instanceId, { name, since: this.parked.get(instanceId)?.since ?? new Date() });
    if (!refusedBy) return;
    const set = this.refused.get(instanceId) ?? new Set<number>();
    set.add(refusedBy.id);
    this.refused.set(instanceId, set);
  }

  /** Forgets which streams refused an instance (it ran). */
  forgetRefusals(instanceId: string): void {
    this.refused.delete(instanceId);
  }

  /** Instances waiting for a worker that registers their workflow, with their name and since when. */
  get waitingForWorker(): ReadonlyMap<string, { name: string; since: Date }> {
    return this.parked;
  }

  private async unparkAll(): Promise<void> {
    for (const id of [...this.parked.keys()]) {
      this.parked.delete(id);
      await this.o.backend.releaseOrchestration(this.o.owner, id);
    }
  }

  /** Forgets a stream and releases its unfinished items for redelivery. */
  async removeStream(stream: WorkerStream): Promise<void> {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream);
    const { backend, owner } = this.o;
    const now = Date.now();
    for (const f of this.orchestrations.values()) if (f.stream === stream) this.abandon(f, now);
    for (const [key, f] of this.activities) {
      if (f.stream !== stream) continue;
      this.activities.delete(key);
      this.coalescer.closed(f.item.instanceId);
      this.o.observer?.activityExecution(f.item.name, 'recoverable', performance.now() - f.sentPerf);
      await backend.releaseActivity(owner, f.item.instanceId, f.item.taskId);
    }
    // With no worker left here, activities waiting for one go back for other replicas' workers.
    if (this.streams.size === 0) await this.releaseWaitingActivities();
    this.o.logger.info(`workflow worker stream ${stream.id} closed (${this.streams.size} open)`);
    this.kick();
  }

  /** The transport of a paused stream can take more ('drain'): sending to it resumes. */
  resumeStream(stream: WorkerStream): void {
    if (!stream.paused) return;
    stream.paused = false;
    this.kick();
  }

  private async releaseWaitingActivities(): Promise<void> {
    const waiting = this.waitingActivities;
    this.waitingActivities = [];
    for (const item of waiting) await this.o.backend.releaseActivity(this.o.owner, item.instanceId, item.taskId);
  }

  /**
   * Called once an activity result of `instanceId` is in the store (`taken`: this sidecar had sent
   * that activity, see {@link takeActivity}). Returns true when the instance's orchestrator is held
   * back because more of its activities are due here (see `fan-out-coalescer.ts`).
   */
  activityStored(instanceId: string, taken: boolean, dispatched = false): boolean {
    return this.coalescer.stored(instanceId, taken, dispatched);
  }

  /**
   * Whether an activity result of the instance arriving now (`taken` as in {@link activityStored})
   * may lock its instance here with it (`completeActivityAndLock`): its orchestrator would be
   * dispatched at once (not held back by fan-out coalescing, not in flight or parked here) and a
   * stream has room for it. `after`: it may once the instance's other results being stored now are
   * stored (the last result of a fan-out, whose siblings are still committing): wait for
   * {@link othersStored} and ask again.
   */
  mayLockWithResult(instanceId: string, taken: boolean): boolean | 'after' {
    if (this.closed || !this.freeStream() || this.orchestrations.size >= this.o.maxOrchestrations) return false;
    if (this.orchestrations.has(instanceId) || this.parked.has(instanceId)) return false;
    const when = this.coalescer.dispatchAfter(instanceId, taken);
    return when === 'hold' ? false : when === 'now' || 'after';
  }

  /** See {@link mayLockWithResult}. */
  othersStored(instanceId: string): Promise<void> {
    return this.coalescer.othersStored(instanceId);
  }

  /** A result of an activity sent from here is being stored; {@link activityStored} ends it. */
  storeBegins(instanceId: string): void {
    this.coalescer.storeBegins(instanceId);
  }

  /**
   * Takes an instance locked here outside the claim loop (with an activity result) and sends it as a
   * claimed one would be; if the dispatcher closed meanwhile, releases it.
   */
  async adoptOrchestration(item: OrchestrationWorkItem): Promise<void> {
    if (this.closed) {
      await this.o.backend.releaseOrchestration(this.o.owner, item.instance.instanceId);
      return;
    }
    this.track(item);
    if (this.sendWaiting()) await this.o.debug.hit('workflow.orchestration.dispatched');
  }

  /** Holds a newly locked batch in flight (not sent yet), behind the duplicate-answer guard of its instance. */
  private track(item: OrchestrationWorkItem): void {
    const id = item.instance.instanceId;
    const f = this.newBatch(item);
    const guard = this.guards.get(id);
    if (guard) f.notBefore = guard.until;
    this.orchestrations.set(id, f);
  }

  /** A step committed here left `count` activities in the store's queue: their results are due too. */
  expectQueued(instanceId: string, count: number): void {
    this.coalescer.expectQueued(instanceId, count);
  }

  /** The instance finished or started over: its queued activities are no longer due. */
  forgetQueued(instanceId: string): void {
    this.coalescer.forgetQueued(instanceId);
  }

  /** Number of open worker streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Matches a worker's answer to the batch it answers, and takes that batch out of flight. `token` is
   * the echoed completion token (absent from the JS SDKs). Answers to a batch already answered, or to
   * a batch this sidecar no longer holds, are to be ignored.
   */
  answerOrchestration(instanceId: string, token: string | undefined): OrchestrationAnswer {
    const now = Date.now();
    const guard = this.guards.get(instanceId);
    if (guard && guard.until <= now) this.guards.delete(instanceId);
    const live = guard && guard.until > now ? guard : undefined;
    if (live && (token === undefined || token === live.token)) {
      live.remaining -= 1;
      if (live.remaining <= 0) this.clearGuard(instanceId);
      return { kind: 'ignore', reason: 'a duplicate answer to a batch already answered' };
    }
    const f = this.orchestrations.get(instanceId);
    if (!f) return { kind: 'ignore', reason: 'no work item of this instance is in flight here' };
    if (token !== undefined && token !== f.token) return { kind: 'ignore', reason: `its completion token ${token} is not the batch in flight (${f.token})` };
    if (f.deliveries === 0) return { kind: 'ignore', reason: 'its batch has not been sent yet' };
    this.orchestrations.delete(instanceId);
    if (f.stream) f.stream.inFlight -= 1;
    // Every other delivery of the batch may still answer: hold the next batch back until they have.
    if (f.deliveries > 1) this.guards.set(instanceId, { token: f.token, remaining: f.deliveries - 1, until: now + this.o.lateAnswerMs });
    return { kind: 'apply', inFlight: f };
  }

  private clearGuard(instanceId: string): void {
    this.guards.delete(instanceId);
    const waiting = this.orchestrations.get(instanceId);
    if (waiting && !waiting.stream) {
      waiting.notBefore = 0;
      this.kick('orchestrations');
    }
  }

  /**
   * Takes an in-flight activity, if this sidecar dispatched it; `token`, when the worker echoed one,
   * must be its delivery's (`'stale'`: the answer belongs to an earlier delivery). Once its result is
   * stored (or failed to be), the caller reports it with {@link activityStored}.
   */
  takeActivity(instanceId: string, taskId: number, token?: string): InFlightActivity | 'stale' | undefined {
    const key = activityKey(instanceId, taskId);
    const f = this.activities.get(key);
    if (!f) return undefined;
    if (token !== undefined && token !== f.token) return 'stale';
    this.activities.delete(key);
    f.stream.inFlight -= 1;
    return f;
  }

  /** How many more activities could be sent now (push dispatch leases no more than this). */
  activityCapacity(): number {
    let free = 0;
    for (const s of this.streams) if (!s.paused) free += Math.max(0, this.o.maxPerStream - s.inFlight);
    return Math.max(0, Math.min(free, this.o.maxActivities - this.activities.size) - this.waitingActivities.length);
  }

  /**
   * Sends activities a committed step leased to this sidecar (push dispatch: no claim query). Those
   * that find no stream with room wait here for one (they are leased here already).
   */
  async pushActivities(items: ActivityWorkItem[]): Promise<void> {
    await this.sendActivities(items, performance.now());
  }

  /** Sends leased activities to the least busy streams; the rest wait for room; with no stream at all they are released. */
  private async sendActivities(items: ActivityWorkItem[], started: number): Promise<boolean> {
    let sent = false;
    for (const item of items) {
      if (this.closed || this.streams.size === 0) {
        await this.o.backend.releaseActivity(this.o.owner, item.instanceId, item.taskId);
        this.kick('activities');
        continue;
      }
      if (!this.freeStream()) {
        this.waitingActivities.push(item);
        continue;
      }
      const trace = this.o.activityTrace ? await this.o.activityTrace(item).catch(() => undefined) : undefined;
      // Chosen after the await: another send may have filled or paused the stream meanwhile.
      const stream = this.freeStream();
      if (!stream) {
        this.waitingActivities.push(item);
        continue;
      }
      this.sendActivity(stream, item, trace);
      sent = true;
      this.o.observer?.activityOperation(item.name, 'success', performance.now() - started);
    }
    return sent;
  }

  /** Sends activities waiting for room, as far as the streams have it; true if any was sent. */
  private async sendWaitingActivities(): Promise<boolean> {
    if (this.waitingActivities.length === 0 || !this.freeStream()) return false;
    const waiting = this.waitingActivities;
    this.waitingActivities = [];
    return this.sendActivities(waiting, performance.now());
  }

  /**
   * Asks for a dispatch round soon (new work, a completion, a new stream). `what` says which queue
   * may have new work, so a round does not query the other one for nothing; wake-ups and new streams
   * look at both.
   */
  kick(what: 'orchestrations' | 'activities' | 'all' = 'all'): void {
    if (this.closed) return;
    if (what !== 'activities') this.wantOrchestrations = true;
    if (what !== 'orchestrations') this.wantActivities = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    setImmediate(() => {
      this.pump()
        .catch((err: unknown) => this.o.logger.error('workflow dispatch failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
        .finally(() => {
          this.pumping = false;
          if (this.again) {
            this.again = false;
            this.schedule();
          } else {
            void this.scheduleWake();
          }
        });
    });
  }

  private freeStream(): WorkerStream | undefined {
    let best: WorkerStream | undefined;
    for (const s of this.streams) if (!s.paused && s.inFlight < this.o.maxPerStream && (!best || s.inFlight < best.inFlight)) best = s;
    return best;
  }

  private async pump(): Promise<void> {
    const { backend, owner, leaseMs } = this.o;
    for (;;) {
      this.again = false;
      let progressed = this.sendWaiting();
      if (await this.sendWaitingActivities()) progressed = true;
      const stream = this.freeStream();
      if (this.wantOrchestrations && stream && this.orchestrations.size < this.o.maxOrchestrations) {
        // Cleared before the query, so a kick that arrives while it runs is not lost.
        this.wantOrchestrations = false;
        // Instances held back for more activity results are passed over (fan-out coalescing).
        const item = await backend.lockNextOrchestration(owner, leaseMs, new Date(), this.coalescer.held());
        if (item) {
          progressed = true;
          this.wantOrchestrations = true;
          this.track(item);
          if (this.sendWaiting()) await this.o.debug.hit('workflow.orchestration.dispatched');
        }
      }
      const room = this.activityCapacity();
      if (this.wantActivities && room > 0) {
        this.wantActivities = false;
        const lockStarted = performance.now();
        // One query claims as many as the streams have room for (not one round trip per task).
        const items = await backend.lockActivities(owner, leaseMs, new Date(), room);
        if (items.length > 0) {
          progressed = true;
          // A full batch may have left more behind; a short one emptied the queue.
          if (items.length === room) this.wantActivities = true;
          for (const item of items) this.claimed.add(item);
          await this.sendActivities(items, lockStarted);
        }
      }
      if ((!progressed && !this.again) || this.closed) return;
    }
  }

  private newBatch(item: OrchestrationWorkItem): InFlightOrchestration {
    const newEvents = [ev.orchestratorStarted(new Date()), ...orderBatch(item.messages.map((m) => m.event))];
    return { stream: undefined, item, newEvents, sentAt: Date.now(), token: `o${this.nextToken++}`, deliveries: 0, notBefore: 0 };
  }

  /** Sends locked batches that wait for a stream (new, pinned or held back); true if any was sent. */
  private sendWaiting(): boolean {
    let sent = false;
    let wake = Infinity;
    const now = Date.now();
    for (const [id, f] of this.orchestrations) {
      if (f.stream) continue;
      if (f.notBefore > now) {
        wake = Math.min(wake, f.notBefore);
        continue;
      }
      if (this.parked.has(id)) continue;
      const free = this.freeStream();
      if (!free) break;
      const refused = this.refused.get(id);
      const target = refused?.has(free.id) ? [...this.streams].find((s) => !refused.has(s.id) && !s.paused && s.inFlight < this.o.maxPerStream) : free;
      if (!target) {
        // Every connected worker said it does not register this workflow: wait for a new one.
        this.orchestrations.delete(id);
        this.park(id, f.item.instance.name);
        continue;
      }
      this.sendOrchestration(target, f);
      sent = true;
    }
    if (wake !== Infinity && wake < this.holdUntil) {
      // A batch held back for duplicate answers: look again when its hold ends.
      if (this.holdTimer) clearTimeout(this.holdTimer);
      this.holdUntil = wake;
      this.holdTimer = setTimeout(() => {
        this.holdUntil = Infinity;
        this.kick('orchestrations');
      }, Math.max(1, wake - now));
      this.holdTimer.unref();
    }
    return sent;
  }

  private sendOrchestration(stream: WorkerStream, f: InFlightOrchestration): void {
    const { item, newEvents } = f;
    const id = item.instance.instanceId;
    const sentAt = Date.now();
    f.stream = stream;
    f.sentAt = sentAt;
    f.deliveries += 1;
    // orderBatch puts an ExecutionStarted first: a first run (of this execution) is being handed out.
    const started = this.o.observer && f.deliveries === 1 ? newEvents[1]?.executionStarted : undefined;
    if (started && newEvents[1]) {
      // As daprd: from the requested start time (or the start request itself) to the run being handed out.
      const due = started.scheduledStartTimestamp ?? newEvents[1].timestamp;
      this.o.observer?.scheduled(item.instance.name, sentAt - fromTimestamp(due).getTime());
    }
    stream.inFlight += 1;
    this.stats.orchestrations += 1;
    this.stats.pastEvents += item.history.length;
    this.sendOrAnswer(
      stream,
      {
        orchestratorRequest: { instanceId: id, executionId: { value: item.instance.executionId }, pastEvents: item.history, newEvents },
        completionToken: f.token,
      },
      { kind: 'orchestration', instanceId: id, token: f.token },
    );
  }

  /** Sends an item; one too large to send is handed to `onTooLarge` to be answered (it stays in flight until then). */
  private sendOrAnswer(stream: WorkerStream, message: WorkItemMessage, item: Parameters<TooLargeHandler>[0]): void {
    try {
      if (stream.send(message) === false) stream.paused = true;
    } catch (err) {
      if (!(err instanceof WorkItemTooLargeError) || !this.o.onTooLarge) throw err;
      this.o.onTooLarge(item, err);
    }
  }

  private sendActivity(stream: WorkerStream, item: ActivityWorkItem, trace: TraceContextMessage | undefined): void {
    if (item.attempt > 1) this.o.logger.info(`redelivering activity ${item.name}#${item.taskId} of ${item.instanceId} (attempt ${item.attempt})`);
    // One token per task of an execution: a redelivery's answer is as good as the first's, while an
    // answer from before a continue-as-new (whose task ids start again at 1) is not.
    const token = `${item.executionId}#${item.taskId}`;
    this.activities.set(activityKey(item.instanceId, item.taskId), { stream, item, token, sentAt: Date.now(), sentPerf: performance.now() });
    this.coalescer.sent(item.instanceId, this.claimed.has(item));
    stream.inFlight += 1;
    this.stats.activities += 1;
    this.sendOrAnswer(
      stream,
      {
        completionToken: token,
        activityRequest: {
          name: item.name,
          input: sv(item.input) as { value: string } | null,
          orchestrationInstance: { instanceId: item.instanceId, executionId: { value: item.executionId } },
          taskId: item.taskId,
          ...(trace ? { parentTraceContext: trace } : {}),
        },
      },
      { kind: 'activity', instanceId: item.instanceId, taskId: item.taskId, token },
    );
  }

  private async scheduleWake(): Promise<void> {
    if (this.closed || this.streams.size === 0) return;
    const now = new Date();
    let next: Date | undefined;
    try {
      next = await this.o.backend.nextWakeAt(now);
    } catch (err) {
      // Not fatal: look again after the poll interval, which also retries this query.
      this.o.logger.warn('scheduling the next workflow wake-up failed; retrying after the poll interval', { error: String(err) });
    }
    const delay = Math.max(5, Math.min(this.o.pollMs, next ? next.getTime() - now.getTime() + 1 : this.o.pollMs));
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.kick(), delay);
    this.wakeTimer.unref();
  }

  /** Stops dispatching and releases everything in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    clearInterval(this.redeliverTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.coalescer.close();
    await this.unparkAll();
    await this.releaseWaitingActivities();
    for (const s of [...this.streams]) {
      await this.removeStream(s);
      s.end();
    }
    for (const key of [...this.orchestrations.keys()]) {
      this.orchestrations.delete(key);
      await this.o.backend.releaseOrchestration(this.o.owner, key);
    }
  }
}
