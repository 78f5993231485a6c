/**
 * Readable JSON of history events and instances for the management API and the CLI: timestamps as
 * RFC 3339, `StringValue` wrappers unwrapped, the event kind as `type`.
 */
import { eventKind, fromTimestamp } from './history.js';
import type { HistoryEvent, InstanceRecord } from './types.js';

function unwrap(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'value') return obj['value'];
  if (keys.length === 2 && 'seconds' in obj && 'nanos' in obj) return fromTimestamp(obj as { seconds: number; nanos: number }).toISOString();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = unwrap(obj[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** One history event as `{eventId, timestamp, type, ...fields}`. */
export function historyEventJson(event: HistoryEvent): Record<string, unknown> {
  const type = eventKind(event);
  const body = unwrap((event as unknown as Record<string, unknown>)[type]);
  return {
    eventId: event.eventId,
    timestamp: fromTimestamp(event.timestamp).toISOString(),
    type: type.charAt(0).toUpperCase() + type.slice(1),
    ...(body && typeof body === 'object' ? (body as Record<string, unknown>) : {}),
  };
}

/** Dapr's HTTP representation of an instance (`GET /v1.0/workflows/dapr/{id}`). */
export function instanceJson(i: InstanceRecord): Record<string, unknown> {
  const properties: Record<string, string> = {};
  if (i.input !== null) properties['dapr.workflow.input'] = i.input;
  if (i.output !== null) properties['dapr.workflow.output'] = i.output;
  if (i.customStatus !== null) properties['dapr.workflow.custom_status'] = i.customStatus;
  if (i.failure) {
    properties['dapr.workflow.failure.error_type'] = i.failure.errorType;
    properties['dapr.workflow.failure.error_message'] = i.failure.errorMessage;
  }
  return {
    instanceID: i.instanceId,
    workflowName: i.name,
    createdAt: i.createdAt.toISOString(),
    lastUpdatedAt: i.lastUpdatedAt.toISOString(),
    runtimeStatus: i.status,
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}
