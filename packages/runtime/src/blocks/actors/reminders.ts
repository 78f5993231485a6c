/**
 * Durable actor reminders. Each reminder is a row of the job store (SQLite in `<dataDir>/jobs.sqlite`,
 * or the Postgres of a `state.postgresql` actor state store, as for jobs and workflows) under the
 * namespace `{appId}||actors`, so it survives a sidecar restart. A due reminder is claimed with a lease
 * in the same step that finds it, so among the replicas of an app exactly one fires each due time;
 * one whose sidecar dies mid-call fires again once the lease ends.
 */
import type { JobRecord } from '../../jobs/job.js';
import { DueLoop } from '../../jobs/due-loop.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { Logger } from '../../logging/logger.js';
import { actorErrors } from './actor-errors.js';
import { addPeriod, parseActorPeriod, parseActorTime, periodRepeats } from './durations.js';
import type { ActorPeriod } from './durations.js';

/** What a reminder registration carries. */
export interface ReminderRequest {
  actorType: string;
  actorId: string;
  name: string;
  dueTime: string;
  period: string;
  ttl: string;
  /** The data as JSON text (undefined: none). */
  data: string | undefined;
  /** False refuses to replace an existing reminder (409). @default true */
  overwrite?: boolean;
}

/** A reminder as stored. */
export interface StoredReminder {
  actorType: string;
  actorId: string;
  name: string;
  dueTime: string;
  period: string;
  data?: string;
  /** Epoch ms of the first due time. */
  registeredAt: number;
  /** Epoch ms after which it no longer fires. */
  expiresAt?: number;
}

/** A scheduled item's timing, shared by reminders and timers (dapr `api.Reminder`). */
export interface Schedule {
  first: number;
  period: ActorPeriod;
  expiresAt: number | undefined;
}

/**
 * Dapr's `setReminderTimes`: the first due time, the period and the expiry, with its messages;
 * throws an Error whose message the API wraps in ERR_ACTOR_REMINDER_CREATE / ERR_ACTOR_TIMER_CREATE.
 */
export function computeSchedule(kind: 'reminder' | 'timer', key: string, dueTime: string, period: string, ttl: string, now: number): Schedule {
  let first = now;
  if (dueTime !== '') {
    try {
      first = parseActorTime(dueTime, now);
    } catch (err) {
      throw new Error(`error parsing ${kind} due time: ${(err as Error).message}`);
    }
  }
  let parsed: ActorPeriod = { years: 0, months: 0, days: 0, ms: 0, repeats: -1 };
  if (period !== '') {
    try {
      parsed = parseActorPeriod(period);
    } catch (err) {
      throw new Error(`invalid ${kind} period: parse error: ${(err as Error).message}`);
    }
    if (parsed.repeats === 0) throw new Error(`invalid ${kind} period: has zero repetitions`);
  }
  let expiresAt: number | undefined;
  if (ttl !== '') {
    try {
      expiresAt = parseActorTime(ttl, first);
    } catch (err) {
      throw new Error(`error parsing ${kind} TTL: ${(err as Error).message}`);
    }
    if (now > expiresAt || first > expiresAt) {
      throw new Error(`${kind} ${key} has already expired: dueTime: ${new Date(first).toISOString()} TTL: ${ttl}`);
    }
  }
  return { first, period: parsed, expiresAt };
}

/** After a fire at `due` (the `fired`-th), the next due time, or undefined when it is over. */
export function followingDue(schedule: Pick<Schedule, 'period' | 'expiresAt'>, due: number, fired: number, now: number): number | undefined {
  const { period } = schedule;
  if (!periodRepeats(period)) return undefined;
  if (period.repeats > 0 && fired >= period.repeats) return undefined;
  let next = addPeriod(due, period);
  // Fires missed while no sidecar ran are not replayed one by one: the next one is now.
  if (next < now) next = now;
  if (schedule.expiresAt !== undefined && next > schedule.expiresAt) return undefined;
  return next;
}

const TYPE_URL = 'weft.actors.v1.Reminder';
const SEP = '||';
/** How long a claimed reminder stays with this sidecar; longer than a callback may take. */
const LEASE_MS = 45_000;
/** Retries of a failing callback within one due time (daprd: 3, one second apart). */
const MAX_RETRIES = 3;
const RETRY_MS = 1_000;

/** The outcome of one delivery. */
export type FireOutcome = 'ok' | 'failed' | 'cancel' | 'not-hosted';

/** What the reminders need from the runtime. */
export interface ReminderHost {
  /** Delivers `PUT /actors/{type}/{id}/method/remind/{name}` through the actor's turn lock. */
  fire(reminder: StoredReminder): Promise<FireOutcome>;
  /** True when this sidecar can fire reminders (the app's config is read). */
  ready(): boolean;
}

/** Registers, reads and fires the reminders of one app. */
export class ActorReminders {
  private readonly namespace: string;
  private readonly inFlight = new Set<string>();
  private readonly loop: DueLoop;

  constructor(
    appId: string,
    private readonly store: JobStore,
    private readonly host: ReminderHost,
    private readonly logger: Logger,
    private readonly onFired?: (actorType: string, success: boolean) => void,
  ) {
    this.namespace = `${appId}${SEP}actors`;
    this.loop = new DueLoop({
      store,
      namespace: this.namespace,
      runDue: () => this.runDue(),
      ready: () => host.ready(),
      maxSleepMs: 1000,
      idleSleepMs: 500,
      logger,
      what: 'actor reminders',
    });
  }

  /** Stores a reminder (replacing one of the same name unless `overwrite` is false). */
  async create(req: ReminderRequest, now = Date.now()): Promise<void> {
    const key = [req.actorType, req.actorId, req.name].join(SEP);
    let schedule: Schedule;
    try {
      schedule = computeSchedule('reminder', key, req.dueTime, req.period, req.ttl, now);
    } catch (err) {
      throw actorErrors.reminderCreate((err as Error).message);
    }
    const stored: StoredReminder = {
      actorType: req.actorType,
      actorId: req.actorId,
      name: req.name,
      dueTime: req.dueTime,
      period: req.period,
      ...(req.data !== undefined ? { data: req.data } : {}),
      registeredAt: schedule.first,
      ...(schedule.expiresAt !== undefined ? { expiresAt: schedule.expiresAt } : {}),
    };
    const record: JobRecord = {
      spec: { name: key, data: { typeUrl: TYPE_URL, value: Buffer.from(JSON.stringify(stored)) } },
      createdAt: now,
      nextRunAt: schedule.first,
      count: 0,
      attempt: 0,
    };
    let inserted: boolean;
    try {
      inserted = await this.store.insert(this.namespace, record, req.overwrite ?? true);
    } catch (err) {
      throw actorErrors.reminderCreate((err as Error).message);
    }
    if (!inserted) throw actorErrors.reminderExists(req.name);
    this.wake();
  }

  /** A stored reminder, or undefined. */
  async get(actorType: string, actorId: string, name: string): Promise<StoredReminder | undefined> {
    let record: JobRecord | undefined;
    try {
      record = await this.store.get(this.namespace, [actorType, actorId, name].join(SEP));
    } catch (err) {
      throw actorErrors.reminderGet((err as Error).message);
    }
    return record ? decode(record) : undefined;
  }

  /** Deletes a reminder; deleting a missing one succeeds. */
  async delete(actorType: string, actorId: string, name: string): Promise<void> {
    try {
      await this.store.delete(this.namespace, [actorType, actorId, name].join(SEP));
    } catch (err) {
      throw actorErrors.reminderDelete((err as Error).message);
    }
  }

  /**
   * The reminders of an actor type, or of one actor of it when `actorId` is given, ordered by key.
   * Rows are matched on the stored type and id, not only on the key prefix, since ids may hold `||`.
   */
  async list(actorType: string, actorId?: string): Promise<StoredReminder[]> {
    const prefix = [actorType, ...(actorId !== undefined ? [actorId] : []), ''].join(SEP);
    const records = await this.store.list(this.namespace, prefix);
    return records.map(decode).filter((r) => r.actorType === actorType && (actorId === undefined || r.actorId === actorId));
  }

  /** Deletes the reminders of an actor type, or of one actor of it. */
  async deleteAll(actorType: string, actorId?: string): Promise<void> {
    try {
      for (const r of await this.list(actorType, actorId)) await this.store.delete(this.namespace, [r.actorType, r.actorId, r.name].join(SEP));
    } catch (err) {
      throw actorErrors.reminderDelete((err as Error).message);
    }
  }

  /** Starts firing due reminders. */
  start(): void {
    this.wake();
  }

  /** Looks at the store now. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops firing; callbacks in flight finish. */
  close(): Promise<void> {
    return this.loop.close();
  }

  private async runDue(): Promise<void> {
    if (!this.host.ready()) return;
    const due = await this.store.claimDue(this.namespace, Date.now(), LEASE_MS, 100);
    for (const record of due) {
      if (this.inFlight.has(record.spec.name)) continue;
      this.inFlight.add(record.spec.name);
      void this.fire(record)
        .catch((err: unknown) => this.logger.error(`actor reminder ${record.spec.name}: cannot record the fire`, { error: (err as Error).message }))
        .finally(() => {
          this.inFlight.delete(record.spec.name);
          this.wake();
        });
    }
  }

  private async fire(record: JobRecord): Promise<void> {
    const reminder = decode(record);
    const now = Date.now();
    if (reminder.expiresAt !== undefined && now > reminder.expiresAt) {
      await this.store.remove(this.namespace, record);
      return;
    }
    const outcome = await this.host.fire(reminder);
    if (outcome === 'not-hosted') {
      // Another replica of the app may host the type: hand the claim back soon.
      await this.store.update(this.namespace, { ...record, nextRunAt: Date.now() + RETRY_MS });
      return;
    }
    if (outcome !== 'cancel') this.onFired?.(reminder.actorType, outcome === 'ok');
    if (outcome === 'failed' && record.attempt < MAX_RETRIES) {
      await this.store.update(this.namespace, { ...record, attempt: record.attempt + 1, nextRunAt: Date.now() + RETRY_MS });
      return;
    }
    if (outcome === 'failed') this.logger.warn(`actor reminder ${record.spec.name}: giving up on this due time after ${record.attempt + 1} attempts`);
    const fired = record.count + 1;
    let period: ActorPeriod;
    try {
      period = parseActorPeriod(reminder.period === '' ? '0s' : reminder.period);
    } catch {
      period = { years: 0, months: 0, days: 0, ms: 0, repeats: 0 };
    }
    const next = outcome === 'cancel' ? undefined : followingDue({ period, expiresAt: reminder.expiresAt }, record.nextRunAt, fired, Date.now());
    if (next === undefined) await this.store.remove(this.namespace, record);
    else await this.store.update(this.namespace, { ...record, count: fired, attempt: 0, nextRunAt: next });
  }
}

function decode(record: JobRecord): StoredReminder {
  return JSON.parse(record.spec.data?.value.toString('utf8') ?? '{}') as StoredReminder;
}
