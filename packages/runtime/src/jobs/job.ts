/**
 * A job as the Jobs API describes it, and the checks Dapr's scheduler applies when one is scheduled:
 * at least one of `schedule` and `dueTime`, a parseable schedule, `dueTime`/`ttl` as RFC 3339, Go
 * or ISO-8601 durations, and a failure policy of `drop` or `constant`.
 */
import { parseDurationMs } from '../util/duration.js';
import { ScheduleError, parseSchedule } from '../util/schedule.js';
import type { AnyData } from './any-value.js';

/** What to do when the app does not accept a trigger. */
export type FailurePolicy = { kind: 'drop' } | { kind: 'constant'; intervalMs: number; maxRetries?: number };

/** Dapr's default when no policy is given: 3 more attempts, one second apart (4 in all). */
export const DEFAULT_FAILURE_POLICY: FailurePolicy = { kind: 'constant', intervalMs: 1000, maxRetries: 3 };

/** A job as submitted (the API's fields, kept as given for `GET`). */
export interface JobSpec {
  name: string;
  schedule?: string;
  repeats?: number;
  dueTime?: string;
  ttl?: string;
  data?: AnyData;
  failurePolicy?: FailurePolicy;
}

/** A stored job with its scheduling state. */
export interface JobRecord {
  spec: JobSpec;
  /** When the job was scheduled (epoch ms); `dueTime`/`ttl` durations count from here. */
  createdAt: number;
  /** Next trigger (epoch ms). */
  nextRunAt: number;
  /** Triggers completed (delivered, or given up on). */
  count: number;
  /** Failed attempts of the current trigger. */
  attempt: number;
}

/** Thrown for a job the scheduler refuses (Dapr answers InvalidArgument). */
export class InvalidJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobError';
  }
}

/** An instant given as RFC 3339 or as a duration from `from`. */
export function parseInstant(text: string, from: number, field: string): number {
  const asDuration = parseDurationMs(text);
  if (asDuration !== undefined) return from + asDuration;
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw new InvalidJobError(`invalid ${field} "${text}": expected an RFC 3339 time or a duration`);
}

/** Checks a spec and computes its first trigger; throws {@link InvalidJobError}. */
export function firstRun(spec: JobSpec, now: number): number {
  if (spec.failurePolicy?.kind === 'constant' && spec.failurePolicy.intervalMs < 0) {
    throw new InvalidJobError('failure policy interval must not be negative');
  }
  if (spec.ttl !== undefined) parseInstant(spec.ttl, now, 'ttl');
  if (spec.dueTime !== undefined) return parseInstant(spec.dueTime, now, 'dueTime');
  const next = scheduleOf(spec)?.next(new Date(now));
  if (!next) throw new InvalidJobError('the schedule never fires');
  return next.getTime();
}

/** The parsed schedule of a spec, if it has one. */
export function scheduleOf(spec: JobSpec): ReturnType<typeof parseSchedule> | undefined {
  if (spec.schedule === undefined) return undefined;
  try {
    return parseSchedule(spec.schedule);
  } catch (err) {
    throw new InvalidJobError(err instanceof ScheduleError ? err.message : String(err));
  }
}

/**
 * The next trigger after one completed at `now`, or undefined when the job is over (one-shot,
 * `repeats` reached, or past its `ttl`). Triggers missed while the sidecar was down are not
 * replayed one by one: the job fired once on return and continues from now.
 */
export function nextRun(record: JobRecord, now: number): number | undefined {
  const { spec } = record;
  if (spec.repeats !== undefined && spec.repeats > 0 && record.count >= spec.repeats) return undefined;
  const next = scheduleOf(spec)?.next(new Date(now))?.getTime();
  if (next === undefined) return undefined;
  if (spec.ttl !== undefined && next > parseInstant(spec.ttl, record.createdAt, 'ttl')) return undefined;
  return next;
}

/** True when the job's `ttl` has passed. */
export function expired(record: JobRecord, now: number): boolean {
  return record.spec.ttl !== undefined && now > parseInstant(record.spec.ttl, record.createdAt, 'ttl');
}
