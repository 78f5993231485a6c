/**
 * Histories of the instances this sidecar runs, kept in memory between their steps, so a step's work
 * item is built without reading the whole history from the store or parsing it again: the backend is
 * told what is held (`KnownHistory`) and returns only the events after it. The event objects stay the
 * same from step to step, so their protobuf encoding is made once too (`work-item-encoding.ts`).
 *
 * An entry is appended to by every committed step and dropped when the instance finishes, when a step
 * is refused (the lease was lost or the instance terminated) and when the instance is released
 * unanswered; the least recently used go beyond `maxInstances` instances or `maxEvents` events. Correctness never depends on an entry
 * being current: within one execution a history only grows, and the backend checks the held prefix
 * is still there (another replica may have run steps meanwhile) before returning just the rest.
 */
import type { ActivityCompletion, KnownHistory, OrchestrationStep, OrchestrationWorkItem, WorkflowBackend } from './backend.js';
import type { HistoryEvent } from './types.js';
import { isTerminal } from './types.js';

interface Entry {
  executionId: string;
  events: HistoryEvent[];
}

/** In-memory histories by instance id (see the module comment). */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>();
  private events = 0;

  /**
   * @param maxInstances instances held at most; the least recently used go first. @default 10000
   * @param maxEvents events held at most, over all instances (a bound on memory). @default 1000000
   */
  constructor(
    private readonly maxInstances = 10_000,
    private readonly maxEvents = 1_000_000,
  ) {}

  /** What is held of an instance's history (the backend's hint). */
  readonly known = (instanceId: string): KnownHistory | undefined => {
    const e = this.entries.get(instanceId);
    return e && e.events.length > 0 ? { executionId: e.executionId, length: e.events.length } : undefined;
  };

  /** Number of instances held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Locks the next orchestration through `backend`, passing the hint, and returns the work item with
   * its whole history (the held prefix plus what the backend returned); remembers it.
   */
  async lockNext(
    backend: WorkflowBackend,
    owner: string,
    leaseMs: number,
    now: Date,
    skip?: ReadonlySet<string>,
  ): Promise<OrchestrationWorkItem | undefined> {
    const item = await backend.lockNextOrchestration(owner, leaseMs, now, skip, this.known);
    return item ? this.remember(backend, item) : undefined;
  }

  /**
   * Stores an activity result through `backend`, locking its instance to `owner` when it is free
   * (`completeActivityAndLock`; without it, the result alone), passing the hint; a work item comes
   * back with its whole history, as from {@link lockNext}, and is remembered.
   */
  async completeAndLock(
    backend: WorkflowBackend,
    instanceId: string,
    taskId: number,
    event: HistoryEvent,
    now: Date,
    owner: string,
    leaseMs: number,
  ): Promise<ActivityCompletion> {
    if (!backend.completeActivityAndLock) return { accepted: await backend.completeActivity(instanceId, taskId, event, now) };
    const done = await backend.completeActivityAndLock(instanceId, taskId, event, now, { owner, leaseMs, known: this.known });
    return done.item ? { accepted: done.accepted, item: await this.remember(backend, done.item) } : done;
  }

  /** The work item of a lock with its whole history (the held prefix plus what the backend returned); remembered. */
  private async remember(backend: WorkflowBackend, item: OrchestrationWorkItem): Promise<OrchestrationWorkItem> {
    const id = item.instance.instanceId;
    const from = item.historyFrom;
    if (from === undefined) {
      this.put(id, item.instance.executionId, item.history);
      return item;
    }
    const held = this.entries.get(id);
    let history: HistoryEvent[];
    if (held && held.executionId === item.instance.executionId && held.events.length >= from) {
      history = from === held.events.length ? held.events.concat(item.history) : held.events.slice(0, from).concat(item.history);
    } else {
      // Dropped while the claim ran (a termination, a refused step): read it all after all.
      history = await backend.getHistory(id);
    }
    this.put(id, item.instance.executionId, history);
    const { historyFrom: _omitted, ...whole } = item;
    return { ...whole, history };
  }

  /**
   * Records a committed step of the batch whose history was `history`: the step's events are
   * appended (or replace it on continue-as-new); a finished instance is dropped.
   */
  committed(step: OrchestrationStep, history: HistoryEvent[]): void {
    if (isTerminal(step.status)) {
      this.drop(step.instanceId);
      return;
    }
    const events = step.resetHistory ? [...step.appendHistory] : history.concat(step.appendHistory);
    this.put(step.instanceId, step.newExecutionId ?? step.executionId, events);
  }

  /** Forgets an instance (lease lost or released, step refused, instance ended elsewhere). */
  drop(instanceId: string): void {
    const e = this.entries.get(instanceId);
    if (!e) return;
    this.events -= e.events.length;
    this.entries.delete(instanceId);
  }

  private put(instanceId: string, executionId: string, events: HistoryEvent[]): void {
    // Re-inserted, so the map's order is least recently used first.
    this.drop(instanceId);
    this.entries.set(instanceId, { executionId, events });
    this.events += events.length;
    while (this.entries.size > this.maxInstances || (this.events > this.maxEvents && this.entries.size > 1)) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }
  }

  /**
   * `backend` as the dispatcher should see it: claims go through {@link lockNext}, and an instance
   * released unanswered is dropped.
   */
  wrap(backend: WorkflowBackend): WorkflowBackend {
    const lockNextOrchestration = (owner: string, leaseMs: number, now: Date, skip?: ReadonlySet<string>) =>
      this.lockNext(backend, owner, leaseMs, now, skip);
    const releaseOrchestration = (owner: string, instanceId: string) => {
      this.drop(instanceId);
      return backend.releaseOrchestration(owner, instanceId);
    };
    return new Proxy(backend, {
      get(target, prop, receiver) {
        if (prop === 'lockNextOrchestration') return lockNextOrchestration;
        if (prop === 'releaseOrchestration') return releaseOrchestration;
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
