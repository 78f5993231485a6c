/**
 * The Redis workflow backend: workflows in the Redis that holds the app's actor state (a `state.redis`
 * component with `actorStateStore: "true"`), so every replica of the app shares them, as on Dapr.
 *
 * Every step that changes state is one Lua script (`redis-scripts.ts`, run with EVALSHA through
 * ioredis `defineCommand`), so it is atomic; leases (owner + expiry) on instances and activities let
 * several sidecars share the store. Durable timers are inbox events scored by their visibility time;
 * the wake-up time, the lockable instances and the free activities are sorted sets, so no operation
 * on the hot path reads every instance. Counts per status are counters kept by the same scripts.
 * Other replicas hear of new work through pub/sub on `<prefix>work` (each backend object ignores its
 * own messages), as Postgres replicas do through LISTEN/NOTIFY.
 *
 * Keys live under `weft:wf:{<appId>}:`. The braces are a Redis Cluster hash tag: all of one app's keys
 * hash to one slot, which a cluster-mode deployment needs for the multi-key scripts (Weft connects to
 * a single node today; the layout is ready for a cluster). Apps sharing a Redis database stay apart.
 *
 * Durability is Redis's: with the default RDB snapshots a Redis crash loses the last seconds of
 * workflow progress; run Redis with `appendonly yes` (and `appendfsync everysec` or `always`) for
 * workflows that must survive a Redis crash, as Dapr's documentation advises for actor state.
 */
import { randomUUID } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { connectRedis } from '../components/redis-connect.js';
import type { Logger } from '../logging/logger.js';
import type {
  ActivityCompletion,
  ActivityWorkItem,
  ForkedInstance,
  InstanceFilter,
  InstancePage,
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
import { madeWorkForOthers } from './new-work.js';
import { SCRIPTS } from './redis-scripts.js';
import type { ScriptName } from './redis-scripts.js';
import { decodeToken, encodeToken, idleInstances, isUnfiltered, parseEvent } from './sql-rows.js';
import type { InstanceFacts, Transition } from './transitions.js';
import { planSuspend, planTerminate, purgeBatch, purgeStatuses } from './transitions.js';
import type { PendingWorkRow } from './sql-rows.js';
import type { HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';

/** The scripts as ioredis exposes them after `defineCommand` (one key: the prefix). */
type ScriptClient = Redis & Record<ScriptName, (prefix: string, ...args: string[]) => Promise<unknown>>;

/** The key prefix of an app's workflow data (with its cluster hash tag). */
export function redisWorkflowPrefix(appId: string): string {
  return `weft:wf:{${appId}}:`;
}

/** Options of {@link RedisWorkflowBackend.open}. */
export interface RedisWorkflowOptions {
  /** Connection settings, as the `state.redis` driver derives them from its metadata. */
  redis: RedisOptions;
  appId: string;
  logger: Logger;
}

const asString = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

/** `HGETALL` as a flat array (how a script returns it) to a map. */
function fields(flat: unknown): Map<string, string> {
  const list = flat as unknown[];
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) out.set(asString(list[i]), asString(list[i + 1]));
  return out;
}

function toRecord(instanceId: string, f: Map<string, string>): InstanceRecord {
  const time = (name: string) => new Date(Number(f.get(name)));
  const failure = f.get('failure');
  const sched = f.get('sched');
  const ptask = f.get('ptask');
  return {
    instanceId,
    name: f.get('name') ?? '',
    status: (f.get('status') ?? 'PENDING') as WorkflowStatus,
    executionId: f.get('exec') ?? '',
    input: f.get('input') ?? null,
    output: f.get('output') ?? null,
    customStatus: f.get('cs') ?? null,
    failure: failure ? (JSON.parse(failure) as InstanceRecord['failure']) : null,
    createdAt: time('created'),
    lastUpdatedAt: time('updated'),
    scheduledStartAt: sched === undefined ? null : new Date(Number(sched)),
    parentInstanceId: f.get('parent') ?? null,
    parentTaskId: ptask === undefined ? null : Number(ptask),
  };
}

/** A work item as the claim scripts return it (`lockInstance` in the prelude): a hash, history, seqs, events, historyFrom. */
function toWorkItem(reply: unknown[]): OrchestrationWorkItem {
  const [instance, history, seqs, events, from] = reply as [unknown[], unknown[], unknown[], unknown[], number];
  const f = fields(instance);
  return {
    instance: toRecord(f.get('id') ?? '', f),
    history: history.map((e) => parseEvent(asString(e))),
    messages: seqs.map((seq, i) => ({ seq: Number(asString(seq)), event: parseEvent(asString(events[i])) })),
    ...(from > 0 ? { historyFrom: from } : {}),
  };
}

/** A new instance as the scripts take it (null fields left out: Lua's cjson turns null into a truthy value). */
function instancePayload(i: NewInstance) {
  return {
    id: i.instanceId,
    name: i.name,
    exec: i.executionId,
    ...(i.input !== null ? { input: i.input } : {}),
    created: String(i.createdAt.getTime()),
    ...(i.scheduledStartAt ? { sched: String(i.scheduledStartAt.getTime()) } : {}),
    ...(i.parentInstanceId !== null && i.parentTaskId !== null ? { parent: i.parentInstanceId, ptask: String(i.parentTaskId) } : {}),
    start: JSON.stringify(i.startEvent),
  };
}

function messagePayload(m: OutgoingMessage) {
  return { id: m.instanceId, event: JSON.stringify(m.event), at: String(m.visibleAt.getTime()), timer: Boolean(m.event.timerFired) };
}

function activityPayload(a: { taskId: number; name: string; input: string | null }) {
  return { task: a.taskId, name: a.name, ...(a.input !== null ? { input: a.input } : {}) };
}

function filterPayload(filter: InstanceFilter) {
  return {
    ...(filter.statuses && filter.statuses.length > 0 ? { statuses: filter.statuses } : {}),
    ...(filter.name ? { name: filter.name } : {}),
    ...(filter.instanceIdPrefix ? { prefix: filter.instanceIdPrefix } : {}),
    ...(filter.createdFrom ? { createdFrom: filter.createdFrom.getTime() } : {}),
    ...(filter.createdTo ? { createdTo: filter.createdTo.getTime() } : {}),
    ...(filter.updatedTo ? { updatedTo: filter.updatedTo.getTime() } : {}),
  };
}

/** Redis implementation of {@link WorkflowBackend}. */
export class RedisWorkflowBackend implements WorkflowBackend {
  /** Identifies this backend object's notifications, so its own subscriber ignores them. */
  private readonly notifier = randomUUID();
  private subscriber: Redis | undefined;

  private constructor(
    private readonly client: ScriptClient,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /** Connects (one attempt; an unreachable Redis fails start-up with the address tried) and loads the scripts. */
  static async open(options: RedisWorkflowOptions): Promise<RedisWorkflowBackend> {
    const client = await connectRedis(options.redis, options.logger, (c) => {
      for (const [name, lua] of Object.entries(SCRIPTS)) c.defineCommand(name, { numberOfKeys: 1, lua });
    });
    return new RedisWorkflowBackend(client as ScriptClient, redisWorkflowPrefix(options.appId), options.logger);
  }

  /** The key prefix this backend's keys live under. */
  get keyPrefix(): string {
    return this.prefix;
  }

  private run(name: ScriptName, ...args: string[]): Promise<unknown> {
    return this.client[name](this.prefix, ...args);
  }

  async createInstance(instance: NewInstance): Promise<boolean> {
    return (await this.run('wfCreate', JSON.stringify(instancePayload(instance)), this.notifier)) === 1;
  }

  async createForkedInstance(f: ForkedInstance): Promise<string | undefined> {
    const payload = {
      id: f.instanceId,
      name: f.name,
      exec: f.executionId,
      ...(f.input !== null ? { input: f.input } : {}),
      created: String(f.createdAt.getTime()),
      history: f.history.map((e) => JSON.stringify(e)),
      activities: f.activities.map(activityPayload),
      messages: f.messages.map(messagePayload),
      children: f.newInstances.map(instancePayload),
    };
    const taken = await this.run('wfFork', JSON.stringify(payload), this.notifier);
    return taken === null ? undefined : asString(taken);
  }

  async enqueue(m: OutgoingMessage): Promise<boolean> {
    const queued = await this.run('wfEnqueue', m.instanceId, JSON.stringify(m.event), String(m.visibleAt.getTime()), m.event.timerFired ? '1' : '0', this.notifier);
    return queued === 1;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const f = await this.client.hgetall(`${this.prefix}i:${instanceId}`);
    return f['status'] === undefined ? undefined : toRecord(instanceId, new Map(Object.entries(f)));
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return (await this.client.lrange(`${this.prefix}h:${instanceId}`, 0, -1)).map(parseEvent);
  }

  async listInstances(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    const after = continuationToken ? decodeToken(continuationToken) : undefined;
    const size = Math.max(1, Math.floor(pageSize));
    const rows = (await this.run('wfList', JSON.stringify(filterPayload(filter)), String(size), after ? String(after[0]) : '', after?.[1] ?? '')) as unknown[];
    const all = rows.map((r) => {
      const f = fields(r);
      return toRecord(f.get('id') ?? '', f);
    });
    const page = all.slice(0, size);
    const last = page[page.length - 1];
    return all.length > size && last ? { instances: page, continuationToken: encodeToken(last.createdAt.getTime(), last.instanceId) } : { instances: page };
  }

  async countInstances(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>> {
    const counts: Partial<Record<WorkflowStatus, number>> = {};
    if (isUnfiltered(filter)) {
      for (const [status, n] of Object.entries(await this.client.hgetall(`${this.prefix}counts`))) {
        if (Number(n) > 0) counts[status as WorkflowStatus] = Number(n);
      }
      return counts;
    }
    const rows = (await this.run('wfList', JSON.stringify(filterPayload(filter)), '0', '', '')) as [unknown, unknown][];
    for (const [status, n] of rows) counts[asString(status) as WorkflowStatus] = Number(n);
    return counts;
  }

  async recentInstances(since: Date): Promise<RecentInstance[]> {
    const rows = (await this.run('wfRecent', String(since.getTime()))) as unknown[][];
    return rows.map(([name, status, created, updated]) => ({
      name: asString(name),
      status: asString(status) as WorkflowStatus,
      createdAt: Number(asString(created)),
      updatedAt: Number(asString(updated)),
    }));
  }

  async lockNextOrchestration(owner: string, leaseMs: number, now: Date, skip?: ReadonlySet<string>): Promise<OrchestrationWorkItem | undefined> {
    const t = now.getTime();
    const reply = (await this.run('wfLockOrchestration', owner, String(t + leaseMs), String(t), ...(skip ?? []))) as unknown[] | null;
    return reply ? toWorkItem(reply) : undefined;
  }

  async commitStep(owner: string, step: OrchestrationStep, now: Date): Promise<boolean> {
    const lock = step.lockActivities;
    const payload = {
      id: step.instanceId,
      exec: step.executionId,
      consumed: step.consumedSeqs.map(String),
      reset: step.resetHistory,
      history: step.appendHistory.map((e) => JSON.stringify(e)),
      status: step.status,
      setInput: step.input !== undefined,
      ...(step.input !== undefined && step.input !== null ? { input: step.input } : {}),
      ...(step.newExecutionId ? { newExec: step.newExecutionId } : {}),
      ...(step.output !== null ? { output: step.output } : {}),
      ...(step.customStatus !== null ? { cs: step.customStatus } : {}),
      ...(step.failure ? { failure: JSON.stringify(step.failure) } : {}),
      activities: step.activities.map(activityPayload),
      ...(lock && lock.max > 0 ? { lockMax: lock.max, lockUntil: String(now.getTime() + lock.leaseMs) } : {}),
      messages: step.messages.map(messagePayload),
      children: step.newInstances.map(instancePayload),
    };
    const notify = madeWorkForOthers(step, now) ? this.notifier : '';
    return (await this.run('wfCommit', owner, JSON.stringify(payload), String(now.getTime()), notify)) === 1;
  }

  async releaseOrchestration(owner: string, instanceId: string): Promise<void> {
    await this.run('wfRelease', owner, instanceId, this.notifier);
  }

  async lockActivities(owner: string, leaseMs: number, now: Date, max: number): Promise<ActivityWorkItem[]> {
    const t = now.getTime();
    const reply = (await this.run('wfLockActivities', owner, String(t + leaseMs), String(t), String(Math.max(0, Math.floor(max))))) as unknown[][];
    return reply.map((row) => {
      const [instanceId, taskId, raw] = row.map(asString) as [string, string, string];
      const a = JSON.parse(raw) as { e: string; n: string; i?: string; a: number };
      return { instanceId, taskId: Number(taskId), executionId: a.e, name: a.n, input: a.i ?? null, attempt: a.a };
    });
  }

  async completeActivity(instanceId: string, taskId: number, event: HistoryEvent, now: Date): Promise<boolean> {
    return (await this.run('wfCompleteActivity', instanceId, String(taskId), JSON.stringify(event), String(now.getTime()), this.notifier)) === 1;
  }

  /**
   * The result and, when the instance is free, its lease in one script (`wfCompleteActivityLock`): the
   * claim round trip that would follow, and its scan of the ready index, are saved. Other replicas hear
   * of the result only when it did not lock the instance (they could not have taken it otherwise).
   */
  async completeActivityAndLock(instanceId: string, taskId: number, event: HistoryEvent, now: Date, lock: OrchestrationLockRequest): Promise<ActivityCompletion> {
    const t = now.getTime();
    const known = lock.known?.(instanceId);
    const reply = await this.run(
      'wfCompleteActivityLock',
      instanceId,
      String(taskId),
      JSON.stringify(event),
      String(t),
      lock.owner,
      String(t + lock.leaseMs),
      known?.executionId ?? '',
      String(known?.length ?? 0),
      this.notifier,
    );
    if (Array.isArray(reply)) return { accepted: true, item: toWorkItem(reply) };
    return { accepted: reply === 1 };
  }

  async releaseActivity(owner: string, instanceId: string, taskId: number): Promise<void> {
    await this.run('wfReleaseActivity', owner, instanceId, String(taskId), this.notifier);
  }

  async renewLeases(owner: string, leaseMs: number, now: Date): Promise<void> {
    await this.run('wfRenew', owner, String(now.getTime() + leaseMs), String(now.getTime()));
  }

  async nextWakeAt(now: Date): Promise<Date | undefined> {
    const after = `(${now.getTime()}`;
    const replies = await this.client
      .multi()
      .zrangebyscore(`${this.prefix}ready`, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      .zrangebyscore(`${this.prefix}leases`, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      .zrangebyscore(`${this.prefix}al`, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      .exec();
    const times = (replies ?? []).flatMap(([err, value]) => {
      if (err) throw err;
      const pair = value as string[];
      return pair.length === 2 ? [Number(pair[1])] : [];
    });
    return times.length > 0 ? new Date(Math.min(...times)) : undefined;
  }

  async idleWithPendingWork(idleBefore: Date, now: Date): Promise<PendingWorkInstance[]> {
    const rows = (await this.run('wfIdle', String(idleBefore.getTime()), String(now.getTime()))) as unknown[][];
    const nullable = (v: unknown) => (asString(v) === '' ? null : asString(v));
    const pending: PendingWorkRow[] = rows.map(([id, status, updated, inbox, activity, queued, lock]) => ({
      id: asString(id),
      status: asString(status),
      updated: asString(updated),
      inbox: nullable(inbox),
      activity: nullable(activity),
      queued: asString(queued),
      lock: nullable(lock),
    }));
    return idleInstances(pending, idleBefore, now);
  }

  private async facts(instanceId: string): Promise<InstanceFacts | undefined> {
    const f = (await this.run('wfFacts', instanceId)) as [unknown, unknown, unknown, unknown, number] | null;
    if (!f) return undefined;
    return {
      status: asString(f[0]) as WorkflowStatus,
      executionId: asString(f[1]),
      started: f[4] === 1,
      parentInstanceId: f[2] === null ? null : asString(f[2]),
      parentTaskId: f[3] === null ? null : Number(asString(f[3])),
    };
  }

  /** Applies a planned transition in one script; the unfinished children when it finishes the instance, undefined when the instance changed since it was read. */
  private async apply(x: Transition): Promise<string[] | undefined> {
    const payload = {
      id: x.instanceId,
      guard: { status: x.guard.status, exec: x.guard.executionId, started: x.guard.started },
      status: x.status,
      setOutput: x.output !== undefined,
      ...(x.output !== undefined && x.output !== null ? { output: x.output } : {}),
      history: x.appendHistory.map((e) => JSON.stringify(e)),
      finish: x.finish,
      ...(x.parentMessage ? { parent: messagePayload(x.parentMessage) } : {}),
      wakes: x.wakes,
      at: String(x.at.getTime()),
    };
    const reply = (await this.run('wfTransition', JSON.stringify(payload), this.notifier)) as [number, unknown[]?];
    return reply[0] === 1 ? (reply[1] ?? []).map(asString).sort() : undefined;
  }

  async terminate(instanceId: string, output: string | null, now: Date): Promise<TerminateResult> {
    // Planned from what was read, applied only if nothing changed in between; else planned again.
    for (;;) {
      const plan = planTerminate(instanceId, await this.facts(instanceId), output, now);
      if (plan.kind === 'unknown') return { found: false };
      if (plan.kind === 'finished') return { found: true, alreadyFinished: true, children: [] };
      const children = await this.apply(plan.transition);
      if (children) return { found: true, alreadyFinished: false, children };
    }
  }

  async setSuspended(instanceId: string, suspended: boolean, now: Date): Promise<WorkflowStatus | undefined> {
    for (;;) {
      const plan = planSuspend(instanceId, await this.facts(instanceId), suspended, now);
      if (!plan.transition || (await this.apply(plan.transition))) return plan.previous;
    }
  }

  async purge(instanceId: string): Promise<number> {
    return Number(await this.run('wfPurge', instanceId));
  }

  async purgeWhere(filter: InstanceFilter, limit?: number): Promise<number> {
    const statuses = purgeStatuses(filter);
    if (statuses.length === 0) return 0;
    const bound = purgeBatch(limit) ?? 0;
    return Number(await this.run('wfPurgeWhere', JSON.stringify(filterPayload({ ...filter, statuses })), String(bound)));
  }

  watchNewWork(onWork: () => void, onError: (err: unknown) => void): void {
    if (this.subscriber) return;
    // A subscribed connection can run nothing else: a second one, with the same settings.
    const subscriber = this.client.duplicate();
    this.subscriber = subscriber;
    let lost = false;
    subscriber.on('message', (_channel: string, sender: string) => {
      if (sender !== this.notifier) onWork();
    });
    subscriber.on('error', (err: unknown) => {
      if (lost) return;
      lost = true;
      onError(err);
    });
    subscriber.on('ready', () => {
      // Work may have appeared while no one listened (ioredis subscribes again by itself).
      lost = false;
      onWork();
    });
    subscriber.subscribe(`${this.prefix}work`).catch((err: unknown) => {
      this.logger.debug(`workflow work channel: ${String(err)}`);
    });
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
