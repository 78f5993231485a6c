/**
 * Row mapping shared by the SQL drivers: both store times as epoch milliseconds and events as JSON
 * text, so an instance row reads the same from SQLite and PostgreSQL.
 */
import type { HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';
import type { InstanceFilter, PendingWorkInstance } from './backend.js';
import type { InstanceFacts } from './transitions.js';

/** An instance row as both drivers select it. */
export interface InstanceRow {
  instance_id: string;
  name: string;
  status: string;
  execution_id: string;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  failure: string | null;
  created_at: number | string;
  updated_at: number | string;
  scheduled_start_at: number | string | null;
  parent_instance_id: string | null;
  parent_task_id: number | null;
}

/** Columns selected for {@link InstanceRow}. */
export const INSTANCE_COLUMNS =
  'instance_id, name, status, execution_id, input, output, custom_status, failure, created_at, updated_at, scheduled_start_at, parent_instance_id, parent_task_id';

/** Maps a row to the record the engine uses. */
export function toInstance(row: InstanceRow): InstanceRecord {
  return {
    instanceId: row.instance_id,
    name: row.name,
    status: row.status as WorkflowStatus,
    executionId: row.execution_id,
    input: row.input,
    output: row.output,
    customStatus: row.custom_status,
    failure: row.failure ? (JSON.parse(row.failure) as InstanceRecord['failure']) : null,
    createdAt: new Date(Number(row.created_at)),
    lastUpdatedAt: new Date(Number(row.updated_at)),
    scheduledStartAt: row.scheduled_start_at === null ? null : new Date(Number(row.scheduled_start_at)),
    parentInstanceId: row.parent_instance_id,
    parentTaskId: row.parent_task_id,
  };
}

/** Parses a stored event. */
export function parseEvent(text: string): HistoryEvent {
  return JSON.parse(text) as HistoryEvent;
}

/** An instance's {@link InstanceFacts} as both drivers select them ({@link factsQuery}). */
export interface FactsRow {
  status: string;
  execution_id: string;
  parent_instance_id: string | null;
  parent_task_id: number | null;
  /** 0/1 from SQLite, a boolean from PostgreSQL. */
  started: number | boolean;
}

/**
 * Selects one instance's {@link FactsRow} from `instances` (with its history in `history`), by app id
 * and instance id (placeholders `app` and `id`); `suffix` ends the statement (`FOR UPDATE`).
 */
export function factsQuery(instances: string, history: string, app: string, id: string, suffix = ''): string {
  return `SELECT status, execution_id, parent_instance_id, parent_task_id,
    EXISTS (SELECT 1 FROM ${history} h WHERE h.app_id = i.app_id AND h.instance_id = i.instance_id) AS started
    FROM ${instances} i WHERE i.app_id = ${app} AND i.instance_id = ${id}${suffix}`;
}

/** Maps a {@link FactsRow}. */
export function toFacts(row: FactsRow | undefined): InstanceFacts | undefined {
  if (!row) return undefined;
  return {
    status: row.status as WorkflowStatus,
    executionId: row.execution_id,
    started: Boolean(row.started),
    parentInstanceId: row.parent_instance_id,
    parentTaskId: row.parent_task_id === null ? null : Number(row.parent_task_id),
  };
}

/**
 * Builds a WHERE clause for an instance filter. `param(i)` renders the i-th placeholder (`?` or `$n`);
 * `first` is the number of the first placeholder.
 */
export function filterClause(filter: InstanceFilter, param: (n: number) => string, first: number): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    args.push(value);
    parts.push(sql(param(first + args.length - 1)));
  };
  if (filter.statuses && filter.statuses.length > 0) {
    const placeholders = filter.statuses.map((s) => {
      args.push(s);
      return param(first + args.length - 1);
    });
    parts.push(`status IN (${placeholders.join(', ')})`);
  }
  if (filter.name) add((p) => `name = ${p}`, filter.name);
  if (filter.instanceIdPrefix) add((p) => `substr(instance_id, 1, ${filter.instanceIdPrefix?.length ?? 0}) = ${p}`, filter.instanceIdPrefix);
  if (filter.createdFrom) add((p) => `created_at >= ${p}`, filter.createdFrom.getTime());
  if (filter.createdTo) add((p) => `created_at <= ${p}`, filter.createdTo.getTime());
  if (filter.updatedTo) add((p) => `updated_at <= ${p}`, filter.updatedTo.getTime());
  return { sql: parts.length > 0 ? ` AND ${parts.join(' AND ')}` : '', args };
}

/** True when the filter selects every instance (the status counters answer it without counting). */
export function isUnfiltered(filter: InstanceFilter): boolean {
  return !(filter.statuses && filter.statuses.length > 0) && !filter.name && !filter.instanceIdPrefix && !filter.createdFrom && !filter.createdTo && !filter.updatedTo;
}

/** Encodes a paging position (created_at, instance_id) as an opaque token. */
export function encodeToken(createdAt: number, instanceId: string): string {
  return Buffer.from(JSON.stringify([createdAt, instanceId])).toString('base64url');
}

/** Decodes a token from {@link encodeToken}; undefined when malformed. */
export function decodeToken(token: string): [number, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through
  }
  return undefined;
}

/** A row of the stuck-instance query (Postgres returns BIGINT as text). */
export interface PendingWorkRow {
  id: string;
  status: string;
  updated: number | string;
  inbox: number | string | null;
  activity: number | string | null;
  /** Inbox events of any visibility (a timer not yet due counts as pending). */
  queued: number | string;
  /** Lock expiry, if the instance is locked. */
  lock: number | string | null;
}

/**
 * Keeps the rows whose waiting work and last progress are both at or before `idleBefore`, and the
 * RUNNING ones with nothing pending at all (no inbox event, timer, activity or lock) idle since then.
 */
export function idleInstances(rows: PendingWorkRow[], idleBefore: Date, now: Date): PendingWorkInstance[] {
  const out: PendingWorkInstance[] = [];
  for (const r of rows) {
    const waiting = [r.inbox, r.activity].filter((x): x is number | string => x !== null).map(Number);
    if (waiting.length === 0) {
      const locked = r.lock !== null && Number(r.lock) > now.getTime();
      if (r.status === 'RUNNING' && Number(r.queued) === 0 && !locked && Number(r.updated) <= idleBefore.getTime()) {
        out.push({ instanceId: r.id, idleSince: new Date(Number(r.updated)), nothingPending: true });
      }
      continue;
    }
    const idleSince = Math.max(Number(r.updated), Math.min(...waiting));
    if (idleSince <= idleBefore.getTime()) out.push({ instanceId: r.id, idleSince: new Date(idleSince) });
  }
  return out;
}
