/**
 * The Weft admin API's wire types, shared by the sidecar routes and the dashboard (which imports them
 * type-only from `@weft/runtime`). Not in the contract: anything Dapr's own API already offers
 * (reading one key, publishing, workflow management) — clients use Dapr's routes for those.
 */

/** One key of a state store as `GET /v1.0-weft/admin/state/{store}/keys` lists it. */
export interface AdminStateKey {
  /** The user key (the store's key prefix, e.g. `appid||`, removed). */
  key: string;
  etag: string;
  /** The value as UTF-8 text, cut at `maxValueBytes`; `truncated` says whether it was cut. */
  value: string;
  /** Whole value size in bytes. */
  size: number;
  truncated: boolean;
  /** ISO time the key expires (its TTL); absent without a TTL. */
  ttlExpireTime?: string;
  contentType?: string;
}

/** A page of {@link AdminStateKey}s; pass `next` as `after` for the following page. */
export interface AdminStateKeysPage {
  store: string;
  prefix: string;
  keys: AdminStateKey[];
  next?: string;
}

/** What happened to one delivery attempt, or to the event once it was settled. */
export type DeliveryOutcome = 'success' | 'retry' | 'drop' | 'deadlettered';

/** One entry of the recent pub/sub traffic of a sidecar. */
export interface PubSubTrafficEntry {
  /** Increasing sequence number within the sidecar process. */
  seq: number;
  /** ISO time. */
  time: string;
  pubsubName: string;
  topic: string;
  /** The CloudEvent id, when the payload is a CloudEvent. */
  eventId?: string;
  /** The app route delivered to. */
  route?: string;
  outcome: DeliveryOutcome;
  /** Why, for anything but success. */
  reason?: string;
  /** The event's `data` (or the raw payload) as text, cut at 4 KiB. */
  payload: string;
}

/** A message this sidecar sent to a dead-letter topic, kept for replay. */
export interface DeadLetterEntry {
  /** Id for `POST /v1.0-weft/admin/pubsub/deadletters/{id}/replay`. */
  id: string;
  time: string;
  pubsubName: string;
  /** The topic the event came from and is replayed to. */
  topic: string;
  deadLetterTopic: string;
  reason: string;
  eventId?: string;
  /** The event's data as text (cut at 4 KiB). */
  payload: string;
  /** How many times it was replayed. */
  replays: number;
}

/** One recent log line of the sidecar. */
export interface AdminLogEntry {
  seq: number;
  time: string;
  level: string;
  scope: string;
  msg: string;
  /** The remaining structured fields. */
  fields?: Record<string, unknown>;
}

/** `GET /v1.0-weft/admin/info`: what the admin API serves. */
export interface AdminInfo {
  appId: string;
  pid: number;
  /** ISO time the sidecar started. */
  startedAt: string;
  /** State stores that support key listing. */
  listableStores: string[];
}

/**
 * The answer of `POST /v1.0-weft/admin/workflows/{instanceId}/rerun` (202): the new instance's id,
 * named as `RerunWorkflowFromEventResponse` names it.
 */
export interface AdminRerunResponse {
  newInstanceID: string;
}

/** The body of a rerun request; see docs/admin-api.md. */
export interface AdminRerunRequest {
  /** The id of the step's `TaskScheduled`, `TimerCreated` or child-workflow creation event. */
  eventId: number;
  newInstanceId?: string;
  /** The step's new input, serialized (JSON text). */
  input?: string;
  /** @default true when `input` is given */
  overwriteInput?: boolean;
  newChildWorkflowInstanceId?: string;
}

/** `GET /v1.0-weft/admin/workflows/counts`: exact instance counts per runtime status under the list filters. */
export interface AdminWorkflowCounts {
  /** Statuses with no instance are absent. */
  counts: Record<string, number>;
  total: number;
}

export type { WorkflowHealthResponse, WorkflowHealthRow } from './workflow-health.js';
