/**
 * The in-memory reference implementation of {@link WorkflowBackend}: the contract in plain data
 * structures, with no durability. It is what the backend conformance suite checks every driver against
 * (`backend-conformance.ts`), and a fast store for engine tests. One object is one store: several
 * engines may share it (as replicas share a database), and leases decide who works on what.
 */
import type {
  ActivityCompletion,
  ActivityWorkItem,
  ForkedInstance,
  InstanceFilter,
  InstancePage,
  KnownHistory,
  NewInstance,
  OrchestrationLockRequest,
  OrchestrationStep,
  OrchestrationWorkItem,
  OutgoingMessage,
  PendingWorkInstance,
  RecentInstance,
  TerminateResult,
  WorkflowBackend,
} from './backend.js';
import { decodeToken, encodeToken } from './sql-rows.js';
import type { InstanceFacts, Transition } from './transitions.js';
import { planSuspend, planTerminate, purgeBatch, purgeStatuses, purgeable, statusAfterStep } from './transitions.js';
import type { HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';
import { isTerminal } from './types.js';

interface Lease {
  owner: string | null;
  expiresAt: number | null;
}

interface StoredInstance extends Lease {
  record: InstanceRecord;
  history: HistoryEvent[];
}

interface StoredMessage {
  seq: number;
  instanceId: string;
  event: HistoryEvent;
  visibleAt: number;
}

interface StoredActivity extends Lease {
  instanceId: string;
  taskId: number;
  executionId: string;
  name: string;
  input: string | null;
  attempt: number;
  createdAt: number;
}

const free = (lease: Lease, t: number) => lease.expiresAt === null || lease.expiresAt < t;
const activityKey = (instanceId: string, taskId: number) => `${instanceId}\u0000${taskId}`;
/** Events are stored as JSON (as the SQL drivers do), so callers never share objects with the store. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** In-memory {@link WorkflowBackend}. */
export class MemoryWorkflowBackend implements WorkflowBackend {
  private readonly instances = new Map<string, StoredInstance>();
  private readonly inbox: StoredMessage[] = [];
  private readonly activities = new Map<string, StoredActivity>();
  private nextSeq = 1;

  private insertInstance(i: NewInstance): void {
    this.deleteInstance(i.instanceId);
    this.instances.set(i.instanceId, {
      record: {
        instanceId: i.instanceId,
        name: i.name,
        status: 'PENDING',
        executionId: i.executionId,
        input: i.input,
        output: null,
        customStatus: null,
        failure: null,
        createdAt: new Date(i.createdAt),
        lastUpdatedAt: new Date(i.createdAt),
        scheduledStartAt: i.scheduledStartAt ? new Date(i.scheduledStartAt) : null,
        parentInstanceId: i.parentInstanceId,
        parentTaskId: i.parentTaskId,
      },
      history: [],
      owner: null,
      expiresAt: null,
    });
    this.insertInbox({ instanceId: i.instanceId, event: i.startEvent, visibleAt: i.createdAt });
  }

  private deleteInstance(instanceId: string): void {
    this.instances.delete(instanceId);
    this.dropInbox(instanceId, () => true);
    this.dropActivities(instanceId);
  }

  private insertInbox(m: OutgoingMessage): void {
    this.inbox.push({ seq: this.nextSeq++, instanceId: m.instanceId, event: copy(m.event), visibleAt: m.visibleAt.getTime() });
  }

  private dropInbox(instanceId: string, which: (m: StoredMessage) => boolean): void {
    for (let i = this.inbox.length - 1; i >= 0; i--) {
      const m = this.inbox[i]!;
      if (m.instanceId === instanceId && which(m)) this.inbox.splice(i, 1);
    }
  }

  private dropActivities(instanceId: string): void {
    for (const [key, a] of this.activities) if (a.instanceId === instanceId) this.activities.delete(key);
  }

  async createInstance(instance: NewInstance): Promise<boolean> {
    const existing = this.instances.get(instance.instanceId);
    if (existing && !isTerminal(existing.record.status)) return false;
    this.insertInstance(instance);
    return true;
  }

  async createForkedInstance(f: ForkedInstance): Promise<string | undefined> {
    const taken = [f.instanceId, ...f.newInstances.map((c) => c.instanceId)].find((id) => this.instances.has(id));
    if (taken !== undefined) return taken;
    const t = f.createdAt.getTime();
    this.instances.set(f.instanceId, {
      record: {
        instanceId: f.instanceId,
        name: f.name,
        status: 'RUNNING',
        executionId: f.executionId,
        input: f.input,
        output: null,
        customStatus: null,
        failure: null,
        createdAt: new Date(t),
        lastUpdatedAt: new Date(t),
        scheduledStartAt: null,
        parentInstanceId: null,
        parentTaskId: null,
      },
      history: copy(f.history),
      owner: null,
      expiresAt: null,
    });
    for (const a of f.activities) {
      this.activities.set(activityKey(f.instanceId, a.taskId), {
        instanceId: f.instanceId,
        taskId: a.taskId,
        executionId: f.executionId,
        name: a.name,
        input: a.input,
        createdAt: t,
        attempt: 0,
        owner: null,
        expiresAt: null,
      });
    }
    for (const m of f.messages) this.insertInbox(m);
    for (const child of f.newInstances) this.insertInstance(child);
    return undefined;
  }

  async enqueue(message: OutgoingMessage): Promise<boolean> {
    const existing = this.instances.get(message.instanceId);
    if (!existing || isTerminal(existing.record.status)) return false;
    this.insertInbox(message);
    return true;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const stored = this.instances.get(instanceId);
    return stored ? copyRecord(stored.record) : undefined;
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return copy(this.instances.get(instanceId)?.history ?? []);
  }

  async listInstances(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    const after = continuationToken ? decodeToken(continuationToken) : undefined;
    const matching = [...this.instances.values()]
      .map((s) => s.record)
      .filter((r) => matches(r, filter))
      .filter((r) => !after || r.createdAt.getTime() < after[0] || (r.createdAt.getTime() === after[0] && r.instanceId < after[1]))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.instanceId < b.instanceId ? 1 : a.instanceId > b.instanceId ? -1 : 0));
    const page = matching.slice(0, pageSize).map(copyRecord);
    const last = page[page.length - 1];
    return matching.length > pageSize && last
      ? { instances: page, continuationToken: encodeToken(last.createdAt.getTime(), last.instanceId) }
      : { instances: page };
  }

  async countInstances(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>> {
    const counts: Partial<Record<WorkflowStatus, number>> = {};
    for (const { record } of this.instances.values()) if (matches(record, filter)) counts[record.status] = (counts[record.status] ?? 0) + 1;
    return counts;
  }

  async recentInstances(since: Date): Promise<RecentInstance[]> {
    return [...this.instances.values()]
      .map((s) => s.record)
      .filter((r) => r.lastUpdatedAt.getTime() >= since.getTime())
      .map((r) => ({ name: r.name, status: r.status, createdAt: r.createdAt.getTime(), updatedAt: r.lastUpdatedAt.getTime() }));
  }

  async lockNextOrchestration(
    owner: string,
    leaseMs: number,
    now: Date,
    skip?: ReadonlySet<string>,
    known?: (instanceId: string) => KnownHistory | undefined,
  ): Promise<OrchestrationWorkItem | undefined> {
    const t = now.getTime();
    const pick = this.inbox.find((m) => m.visibleAt <= t && !skip?.has(m.instanceId) && this.claimable(m.instanceId, t));
    return pick ? this.lock(pick.instanceId, owner, leaseMs, t, known) : undefined;
  }

  /** Whether an instance may be locked now: unfinished, not suspended, free, its start time reached. */
  private claimable(instanceId: string, t: number): boolean {
    const i = this.instances.get(instanceId);
    if (!i || isTerminal(i.record.status) || i.record.status === 'SUSPENDED' || !free(i, t)) return false;
    return i.record.scheduledStartAt === null || i.record.scheduledStartAt.getTime() <= t;
  }

  /** Locks a claimable instance and returns its work item. */
  private lock(instanceId: string, owner: string, leaseMs: number, t: number, known?: (instanceId: string) => KnownHistory | undefined): OrchestrationWorkItem {
    const instance = this.instances.get(instanceId)!;
    instance.owner = owner;
    instance.expiresAt = t + leaseMs;
    const messages = this.inbox
      .filter((m) => m.instanceId === instanceId && m.visibleAt <= t)
      .map((m) => ({ seq: m.seq, event: copy(m.event) }));
    const have = known?.(instanceId);
    if (have && have.executionId === instance.record.executionId && have.length > 0 && have.length <= instance.history.length) {
      return { instance: copyRecord(instance.record), history: copy(instance.history.slice(have.length)), messages, historyFrom: have.length };
    }
    return { instance: copyRecord(instance.record), history: copy(instance.history), messages };
  }

  async commitStep(owner: string, step: OrchestrationStep, now: Date): Promise<boolean> {
    const t = now.getTime();
    const id = step.instanceId;
    const current = this.instances.get(id);
    if (!current) return false;
    if (current.owner !== owner || current.record.executionId !== step.executionId || isTerminal(current.record.status)) {
      if (current.owner === owner) unlock(current);
      return false;
    }
    const consumed = new Set(step.consumedSeqs);
    this.dropInbox(id, (m) => consumed.has(m.seq));
    if (step.resetHistory) {
      current.history = [];
      this.dropActivities(id);
      // Timers of the old execution go; events raised meanwhile stay for the new one.
      this.dropInbox(id, (m) => Boolean(m.event.timerFired));
    }
    if (isTerminal(step.status)) {
      this.dropActivities(id);
      this.dropInbox(id, () => true);
    }
    current.history.push(...copy(step.appendHistory));
    const executionId = step.newExecutionId ?? step.executionId;
    step.activities.forEach((a, index) => {
      const key = activityKey(id, a.taskId);
      if (this.activities.has(key)) return;
      const leased = step.lockActivities && index < step.lockActivities.max;
      this.activities.set(key, {
        instanceId: id,
        taskId: a.taskId,
        executionId,
        name: a.name,
        input: a.input,
        createdAt: t,
        attempt: leased ? 1 : 0,
        owner: leased ? owner : null,
        expiresAt: leased && step.lockActivities ? t + step.lockActivities.leaseMs : null,
      });
    });
    for (const child of step.newInstances) this.insertInstance(child);
    for (const m of step.messages) {
      const target = this.instances.get(m.instanceId);
      if (m.instanceId === id || (target && !isTerminal(target.record.status))) this.insertInbox(m);
    }
    const r = current.record;
    r.status = statusAfterStep(r.status, step.status);
    r.executionId = executionId;
    if (step.input !== undefined) r.input = step.input;
    r.output = step.output;
    r.customStatus = step.customStatus;
    r.failure = step.failure ? copy(step.failure) : null;
    r.lastUpdatedAt = new Date(t);
    unlock(current);
    return true;
  }

  async releaseOrchestration(owner: string, instanceId: string): Promise<void> {
    const i = this.instances.get(instanceId);
    if (i && i.owner === owner) unlock(i);
  }

  async lockActivities(owner: string, leaseMs: number, now: Date, max: number): Promise<ActivityWorkItem[]> {
    const t = now.getTime();
    const picked = [...this.activities.values()]
      .filter((a) => free(a, t))
      .sort((a, b) => a.createdAt - b.createdAt || a.taskId - b.taskId)
      .slice(0, Math.max(0, max));
    return picked.map((next) => {
      next.owner = owner;
      next.expiresAt = t + leaseMs;
      next.attempt += 1;
      return { instanceId: next.instanceId, taskId: next.taskId, executionId: next.executionId, name: next.name, input: next.input, attempt: next.attempt };
    });
  }

  async completeActivity(instanceId: string, taskId: number, event: HistoryEvent, now: Date): Promise<boolean> {
    return this.complete(instanceId, taskId, event, now);
  }

  private complete(instanceId: string, taskId: number, event: HistoryEvent, now: Date): boolean {
    if (!this.activities.delete(activityKey(instanceId, taskId))) return false;
    this.insertInbox({ instanceId, event, visibleAt: now });
    return true;
  }

  async completeActivityAndLock(instanceId: string, taskId: number, event: HistoryEvent, now: Date, lock: OrchestrationLockRequest): Promise<ActivityCompletion> {
    // No await in between: the result and the lock are one atomic change, as in a transaction.
    if (!this.complete(instanceId, taskId, event, now)) return { accepted: false };
    const t = now.getTime();
    if (!this.claimable(instanceId, t)) return { accepted: true };
    return { accepted: true, item: this.lock(instanceId, lock.owner, lock.leaseMs, t, lock.known) };
  }

  async releaseActivity(owner: string, instanceId: string, taskId: number): Promise<void> {
    const a = this.activities.get(activityKey(instanceId, taskId));
    if (a && a.owner === owner) unlock(a);
  }

  async renewLeases(owner: string, leaseMs: number, now: Date): Promise<void> {
    const until = now.getTime() + leaseMs;
    for (const lease of [...this.instances.values(), ...this.activities.values()]) if (lease.owner === owner) lease.expiresAt = until;
  }

  async nextWakeAt(now: Date): Promise<Date | undefined> {
    const t = now.getTime();
    const times = [
      ...this.inbox.map((m) => m.visibleAt),
      ...[...this.instances.values(), ...this.activities.values()].map((l) => l.expiresAt ?? -Infinity),
      ...[...this.instances.values()].map((i) => (i.record.status === 'PENDING' ? (i.record.scheduledStartAt?.getTime() ?? -Infinity) : -Infinity)),
    ].filter((x) => x > t);
    return times.length > 0 ? new Date(Math.min(...times)) : undefined;
  }

  async idleWithPendingWork(idleBefore: Date, now: Date): Promise<PendingWorkInstance[]> {
    const t = now.getTime();
    const out: PendingWorkInstance[] = [];
    for (const i of this.instances.values()) {
      const r = i.record;
      if (r.status !== 'PENDING' && r.status !== 'RUNNING') continue;
      if (r.scheduledStartAt && r.scheduledStartAt.getTime() > t) continue;
      const updated = r.lastUpdatedAt.getTime();
      if (updated > idleBefore.getTime()) continue;
      const mine = this.inbox.filter((m) => m.instanceId === r.instanceId);
      const waiting = [
        ...mine.filter((m) => m.visibleAt <= t).map((m) => m.visibleAt),
        ...[...this.activities.values()].filter((a) => a.instanceId === r.instanceId).map((a) => a.createdAt),
      ];
      if (waiting.length === 0) {
        const locked = i.expiresAt !== null && i.expiresAt > t;
        if (r.status === 'RUNNING' && mine.length === 0 && !locked) out.push({ instanceId: r.instanceId, idleSince: new Date(updated), nothingPending: true });
        continue;
      }
      const idleSince = Math.max(updated, Math.min(...waiting));
      if (idleSince <= idleBefore.getTime()) out.push({ instanceId: r.instanceId, idleSince: new Date(idleSince) });
    }
    return out;
  }

  private facts(instanceId: string): InstanceFacts | undefined {
    const i = this.instances.get(instanceId);
    if (!i) return undefined;
    const { status, executionId, parentInstanceId, parentTaskId } = i.record;
    return { status, executionId, started: i.history.length > 0, parentInstanceId, parentTaskId };
  }

  /** Applies a planned transition (its guard holds: the facts were read just now); returns the unfinished children when it finishes the instance. */
  private apply(x: Transition): string[] {
    const i = this.instances.get(x.instanceId)!;
    if (x.finish) {
      this.dropActivities(x.instanceId);
      this.dropInbox(x.instanceId, () => true);
      unlock(i);
    }
    i.history.push(...copy(x.appendHistory));
    i.record.status = x.status;
    if (x.output !== undefined) i.record.output = x.output;
    i.record.lastUpdatedAt = new Date(x.at);
    const m = x.parentMessage;
    const parent = m ? this.instances.get(m.instanceId) : undefined;
    if (m && parent && !isTerminal(parent.record.status)) this.insertInbox(m);
    if (!x.finish) return [];
    return [...this.instances.values()]
      .filter((c) => c.record.parentInstanceId === x.instanceId && !isTerminal(c.record.status))
      .map((c) => c.record.instanceId);
  }

  async terminate(instanceId: string, output: string | null, now: Date): Promise<TerminateResult> {
    const plan = planTerminate(instanceId, this.facts(instanceId), output, now);
    if (plan.kind === 'unknown') return { found: false };
    if (plan.kind === 'finished') return { found: true, alreadyFinished: true, children: [] };
    return { found: true, alreadyFinished: false, children: this.apply(plan.transition) };
  }

  async setSuspended(instanceId: string, suspended: boolean, now: Date): Promise<WorkflowStatus | undefined> {
    const plan = planSuspend(instanceId, this.facts(instanceId), suspended, now);
    if (plan.transition) this.apply(plan.transition);
    return plan.previous;
  }

  async purge(instanceId: string): Promise<number> {
    const i = this.instances.get(instanceId);
    if (!i || !purgeable(i.record.status)) return 0;
    let count = 0;
    for (const child of [...this.instances.values()]) if (child.record.parentInstanceId === instanceId) count += await this.purge(child.record.instanceId);
    this.deleteInstance(instanceId);
    return count + 1;
  }

  async purgeWhere(filter: InstanceFilter, limit?: number): Promise<number> {
    const statuses = purgeStatuses(filter);
    if (statuses.length === 0) return 0;
    const ids = [...this.instances.values()]
      .map((s) => s.record)
      .filter((r) => matches(r, { ...filter, statuses }))
      .map((r) => r.instanceId)
      .slice(0, purgeBatch(limit));
    let count = 0;
    for (const id of ids) count += await this.purge(id);
    return count;
  }

  async close(): Promise<void> {
    // Nothing to release: the store lives as long as the object.
  }
}

function unlock(lease: Lease): void {
  lease.owner = null;
  lease.expiresAt = null;
}

function copyRecord(r: InstanceRecord): InstanceRecord {
  return {
    ...r,
    failure: r.failure ? copy(r.failure) : null,
    createdAt: new Date(r.createdAt),
    lastUpdatedAt: new Date(r.lastUpdatedAt),
    scheduledStartAt: r.scheduledStartAt ? new Date(r.scheduledStartAt) : null,
  };
}

function matches(r: InstanceRecord, f: InstanceFilter): boolean {
  if (f.statuses && f.statuses.length > 0 && !f.statuses.includes(r.status)) return false;
  if (f.name && r.name !== f.name) return false;
  if (f.instanceIdPrefix && !r.instanceId.startsWith(f.instanceIdPrefix)) return false;
  if (f.createdFrom && r.createdAt.getTime() < f.createdFrom.getTime()) return false;
  if (f.createdTo && r.createdAt.getTime() > f.createdTo.getTime()) return false;
  if (f.updatedTo && r.lastUpdatedAt.getTime() > f.updatedTo.getTime()) return false;
  return true;
}
