/**
 * Hands locked work to connected SDK workers. Each `GetWorkItems` stream gets a bounded number of
 * items at once (the JS worker silently drops anything beyond 10 running + 100 queued), the least
 * busy stream first; nothing is locked while no stream has room, so work waits in the database until
 * a worker connects. When a stream ends, its unfinished items are released for redelivery; so is an
 * item a live stream leaves unanswered for `redeliverAfterMs` (a worker may drop work silently). Leases on
 * everything in flight are renewed periodically, so another replica takes over only from a dead one.
 */
import type { Logger } from '../logging/logger.js';
import type { ActivityWorkItem, OrchestrationWorkItem, WorkflowBackend } from './backend.js';
import type { DebugPoints } from './debug-points.js';
import { ev, fromTimestamp, sv } from './history.js';
import type { WorkflowObserver } from './observer.js';
import { orderBatch } from './step.js';
import type { HistoryEvent, TraceContextMessage } from './types.js';

/** A work item as sent on the stream (proto-loader object form of `WorkItem`). */
export type WorkItemMessage =
  | { orchestratorRequest: { instanceId: string; executionId: { value: string }; pastEvents: HistoryEvent[]; newEvents: HistoryEvent[] } }
  | {
      activityRequest: {
        name: string;
        input: { value: string } | null;
        orchestrationInstance: { instanceId: string; executionId: { value: string } };
        taskId: number;
        /** The activity execution's span, so the worker's spans join the trace. */
        parentTraceContext?: TraceContextMessage;
      };
    };

/** A connected worker stream. */
export interface WorkerStream {
  readonly id: number;
  send(item: WorkItemMessage): void;
  /** Ends the underlying call (sidecar shutdown). */
  end(): void;
  inFlight: number;
  closed: boolean;
}

/** An orchestration work item sent and not yet completed. */
export interface InFlightOrchestration {
  stream: WorkerStream;
  item: OrchestrationWorkItem;
  newEvents: HistoryEvent[];
  sentAt: number;
}

/** An activity sent and not yet completed. */
export interface InFlightActivity {
  stream: WorkerStream;
  item: ActivityWorkItem;
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
  /** Items in flight per stream. @default 10 */
  maxPerStream: number;
  /** Orchestration work items in flight per sidecar. @default 100 */
  maxOrchestrations: number;
  /** Activity work items in flight per sidecar. @default 100 */
  maxActivities: number;
  /** Longest wait between looks at the database (other replicas' work, expired leases). @default 1000 */
  pollMs: number;
  /** An item a live stream has not answered after this long is released and dispatched again. @default 60000 */
  redeliverAfterMs: number;
  /** Opens an activity execution's span; its context goes to the worker with the request. */
  activityTrace?: ((item: ActivityWorkItem) => Promise<TraceContextMessage | undefined>) | undefined;
  /** Metrics: dispatches, and runs that have to be done again. */
  observer?: WorkflowObserver | undefined;
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
  private nextStreamId = 1;
  private pumping = false;
  private wantOrchestrations = true;
  private wantActivities = true;
  private again = false;
  private closed = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly renewTimer: NodeJS.Timeout;
  private readonly redeliverTimer: NodeJS.Timeout;

  constructor(private readonly o: DispatcherOptions) {
    this.renewTimer = setInterval(() => {
      if (this.orchestrations.size + this.activities.size + this.parked.size === 0) return;
      this.o.backend.renewLeases(o.owner, o.leaseMs, new Date()).catch((err: unknown) => this.o.logger.warn('lease renewal failed', { error: String(err) }));
    }, Math.max(100, Math.floor(o.leaseMs / 3)));
    this.renewTimer.unref();
    this.redeliverTimer = setInterval(() => {
      this.releaseUnanswered(Date.now()).catch((err: unknown) => this.o.logger.warn('releasing unanswered work items failed', { error: String(err) }));
    }, Math.max(50, Math.min(10_000, Math.floor(o.redeliverAfterMs / 4))));
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
      if (now - f.sentAt < redeliverAfterMs || this.orchestrations.get(key) !== f) continue;
      this.orchestrations.delete(key);
      f.stream.inFlight -= 1;
      released += 1;
      this.o.logger.warn(`orchestration work item of ${key} unanswered by stream ${f.stream.id} after ${redeliverAfterMs} ms: redelivering`);
      this.o.observer?.execution(f.item.instance.name, 'recoverable', 0);
      await backend.releaseOrchestration(owner, key);
    }
    for (const [key, f] of [...this.activities]) {
      if (now - f.sentAt < redeliverAfterMs || this.activities.get(key) !== f) continue;
      this.activities.delete(key);
      f.stream.inFlight -= 1;
      released += 1;
      this.o.logger.warn(`activity ${f.item.name}#${f.item.taskId} of ${f.item.instanceId} unanswered by stream ${f.stream.id} after ${redeliverAfterMs} ms: redelivering`);
      this.o.observer?.activityExecution(f.item.name, 'recoverable', performance.now() - f.sentPerf);
      await backend.releaseActivity(owner, f.item.instanceId, f.item.taskId);
    }
    if (released > 0) this.kick();
    return released;
  }

  /** Registers a stream; work starts flowing to it at once. */
  addStream(send: (item: WorkItemMessage) => void, end: () => void): WorkerStream {
    const stream: WorkerStream = { id: this.nextStreamId++, send, end, inFlight: 0, closed: false };
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
    for (const [key, f] of this.orchestrations) {
      if (f.stream !== stream) continue;
      this.orchestrations.delete(key);
      this.o.observer?.execution(f.item.instance.name, 'recoverable', 0);
      await backend.releaseOrchestration(owner, key);
    }
    for (const [key, f] of this.activities) {
      if (f.stream !== stream) continue;
      this.activities.delete(key);
      this.o.observer?.activityExecution(f.item.name, 'recoverable', performance.now() - f.sentPerf);
      await backend.releaseActivity(owner, f.item.instanceId, f.item.taskId);
    }
    this.o.logger.info(`workflow worker stream ${stream.id} closed (${this.streams.size} open)`);
    this.kick();
  }

  /** Number of open worker streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Takes the in-flight orchestration of an instance (undefined: unknown or already completed). */
  takeOrchestration(instanceId: string): InFlightOrchestration | undefined {
    const f = this.orchestrations.get(instanceId);
    if (!f) return undefined;
    this.orchestrations.delete(instanceId);
    f.stream.inFlight -= 1;
    return f;
  }

  /** Takes an in-flight activity, if this sidecar dispatched it. */
  takeActivity(instanceId: string, taskId: number): InFlightActivity | undefined {
    const key = activityKey(instanceId, taskId);
    const f = this.activities.get(key);
    if (!f) return undefined;
    this.activities.delete(key);
    f.stream.inFlight -= 1;
    return f;
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
    for (const s of this.streams) if (s.inFlight < this.o.maxPerStream && (!best || s.inFlight < best.inFlight)) best = s;
    return best;
  }

  private async pump(): Promise<void> {
    const { backend, owner, leaseMs } = this.o;
    for (;;) {
      this.again = false;
      let progressed = false;
      let stream = this.freeStream();
      if (this.wantOrchestrations && stream && this.orchestrations.size < this.o.maxOrchestrations) {
        // Cleared before the query, so a kick that arrives while it runs is not lost.
        this.wantOrchestrations = false;
        const item = await backend.lockNextOrchestration(owner, leaseMs, new Date());
        if (item) {
          progressed = true;
          this.wantOrchestrations = true;
          const id = item.instance.instanceId;
          const refused = this.refused.get(id);
          const target = refused?.has(stream.id) ? [...this.streams].find((s) => !refused.has(s.id) && s.inFlight < this.o.maxPerStream) : stream;
          if (!target) {
            // Every connected worker said it does not register this workflow: wait for a new one.
            this.park(id, item.instance.name);
            continue;
          }
          this.sendOrchestration(target, item);
          await this.o.debug.hit('workflow.orchestration.dispatched');
        }
      }
      stream = this.freeStream();
      if (this.wantActivities && stream && this.activities.size < this.o.maxActivities) {
        this.wantActivities = false;
        const lockStarted = performance.now();
        const item = await backend.lockNextActivity(owner, leaseMs, new Date());
        if (item) {
          progressed = true;
          this.wantActivities = true;
          const trace = this.o.activityTrace ? await this.o.activityTrace(item).catch(() => undefined) : undefined;
          this.sendActivity(stream, item, trace);
          this.o.observer?.activityOperation(item.name, 'success', performance.now() - lockStarted);
        }
      }
      if ((!progressed && !this.again) || this.closed) return;
    }
  }

  private sendOrchestration(stream: WorkerStream, item: OrchestrationWorkItem): void {
    const id = item.instance.instanceId;
    const newEvents = [ev.orchestratorStarted(new Date()), ...orderBatch(item.messages.map((m) => m.event))];
    const sentAt = Date.now();
    this.orchestrations.set(id, { stream, item, newEvents, sentAt });
    // orderBatch puts an ExecutionStarted first: a first run (of this execution) is being handed out.
    const started = this.o.observer ? newEvents[1]?.executionStarted : undefined;
    if (started && newEvents[1]) {
      // As daprd: from the requested start time (or the start request itself) to the run being handed out.
      const due = started.scheduledStartTimestamp ?? newEvents[1].timestamp;
      this.o.observer?.scheduled(item.instance.name, sentAt - fromTimestamp(due).getTime());
    }
    stream.inFlight += 1;
    stream.send({
      orchestratorRequest: { instanceId: id, executionId: { value: item.instance.executionId }, pastEvents: item.history, newEvents },
    });
  }

  private sendActivity(stream: WorkerStream, item: ActivityWorkItem, trace: TraceContextMessage | undefined): void {
    if (item.attempt > 1) this.o.logger.info(`redelivering activity ${item.name}#${item.taskId} of ${item.instanceId} (attempt ${item.attempt})`);
    this.activities.set(activityKey(item.instanceId, item.taskId), { stream, item, sentAt: Date.now(), sentPerf: performance.now() });
    stream.inFlight += 1;
    stream.send({
      activityRequest: {
        name: item.name,
        input: sv(item.input) as { value: string } | null,
        orchestrationInstance: { instanceId: item.instanceId, executionId: { value: item.executionId } },
        taskId: item.taskId,
        ...(trace ? { parentTraceContext: trace } : {}),
      },
    });
  }

  private async scheduleWake(): Promise<void> {
    if (this.closed || this.streams.size === 0) return;
    const now = new Date();
    const next = await this.o.backend.nextWakeAt(now).catch(() => undefined);
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
    await this.unparkAll();
    for (const s of [...this.streams]) {
      await this.removeStream(s);
      s.end();
    }
  }
}
