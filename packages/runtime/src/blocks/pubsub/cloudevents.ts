/**
 * CloudEvents 1.0 envelopes as Dapr builds them: wrapping a published payload, completing an app's
 * own CloudEvent, wrapping raw broker bytes for `rawPayload` subscribers, and checking expiry.
 * Envelopes are serialised with their keys sorted, as Go's encoding/json does, which also puts `data`
 * first (the JS SDK's e2e suite relies on that).
 */
import { randomUUID } from 'node:crypto';

/** A CloudEvent as a JSON object. */
export type CloudEvent = Record<string, unknown>;

/** Content type of a CloudEvent in structured mode. */
export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json';
/** Dapr's event type for published events. */
export const DAPR_EVENT_TYPE = 'com.dapr.event.sent';

/** Keys `metadata.cloudevent.*` may override, with their metadata key. */
const OVERRIDABLE = ['id', 'source', 'type', 'traceid', 'traceparent', 'tracestate', 'subject'].map((key) => [key, `cloudevent.${key}`] as const);

/** Trace context carried into the envelope. */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** True for `application/json` and `application/*+json` (parameters ignored). */
export function isJsonContentType(contentType: string | undefined): boolean {
  const base = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return base === 'application/json' || (base.startsWith('application/') && base.endsWith('+json'));
}

/** True for the structured CloudEvent content type. */
export function isCloudEventContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === CLOUDEVENT_CONTENT_TYPE;
}

function isBinaryContentType(contentType: string): boolean {
  return contentType.split(';')[0]?.trim().toLowerCase() === 'application/octet-stream';
}

/** True when the event's keys are in sorted order, as {@link serializeCloudEvent} writes them. */
export function keysSorted(event: CloudEvent): boolean {
  let previous = '';
  for (const key in event) {
    if (key < previous) return false;
    previous = key;
  }
  return true;
}

/**
 * JSON with top-level keys sorted (Go map order), so `data` comes first. An event built with its keys
 * already in order ({@link newCloudEvent}) is written as it is, without a sorted copy.
 */
export function serializeCloudEvent(event: CloudEvent): Buffer {
  // JSON.stringify leaves out undefined values itself.
  if (keysSorted(event)) return Buffer.from(JSON.stringify(event));
  const sorted: CloudEvent = {};
  for (const key of Object.keys(event).sort()) sorted[key] = event[key];
  return Buffer.from(JSON.stringify(sorted));
}

/** Options of {@link newCloudEvent}. */
export interface NewCloudEventOptions {
  data: Buffer;
  /** Content type of the payload. @default 'text/plain' */
  contentType?: string;
  topic: string;
  pubsubName: string;
  /** The publishing app id (`source`). */
  source: string;
  trace?: TraceContext;
  /** Request metadata; `cloudevent.*` keys override envelope fields. */
  metadata?: Record<string, string>;
  /** Absolute expiry for `ttlInSeconds` on brokers without native TTL. */
  expiration?: Date;
}

function applyOverrides(event: CloudEvent, metadata: Record<string, string> | undefined): void {
  if (!metadata) return;
  for (const [key, metadataKey] of OVERRIDABLE) {
    const value = metadata[metadataKey];
    if (value !== undefined && value !== '') event[key] = value;
  }
}

/** Wraps a payload in Dapr's envelope. JSON payloads are embedded, octet-streams base64-encoded, others strings. */
export function newCloudEvent(options: NewCloudEventOptions): CloudEvent {
  const contentType = options.contentType || 'text/plain';
  const traceparent = options.trace?.traceparent ?? '';
  // Keys in sorted order (data first), so serializeCloudEvent writes the object without sorting a copy.
  const event: CloudEvent = {};
  if (isJsonContentType(contentType)) {
    try {
      event['data'] = options.data.length === 0 ? undefined : (JSON.parse(options.data.toString('utf8')) as unknown);
    } catch {
      event['data'] = options.data.toString('utf8');
    }
  } else if (isBinaryContentType(contentType)) {
    event['data_base64'] = options.data.toString('base64');
  } else {
    event['data'] = options.data.toString('utf8');
  }
  event['datacontenttype'] = contentType;
  if (options.expiration) event['expiration'] = options.expiration.toISOString();
  event['id'] = randomUUID();
  event['pubsubname'] = options.pubsubName;
  event['source'] = options.source;
  event['specversion'] = '1.0';
  event['time'] = new Date().toISOString();
  event['topic'] = options.topic;
  event['traceid'] = traceparent;
  event['traceparent'] = traceparent;
  event['tracestate'] = options.trace?.tracestate ?? '';
  event['type'] = DAPR_EVENT_TYPE;
  applyOverrides(event, options.metadata);
  return event;
}

/**
 * Completes an app's own CloudEvent (published as `application/cloudevents+json`): the topic and
 * pubsub name are set, missing required and trace fields are filled. Throws when the body is not a
 * JSON object.
 */
export function completeCloudEvent(body: Buffer, options: Omit<NewCloudEventOptions, 'data' | 'contentType'>): CloudEvent {
  const parsed = JSON.parse(body.toString('utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('a CloudEvent must be a JSON object');
  const event = parsed as CloudEvent;
  const traceparent = options.trace?.traceparent ?? '';
  event['topic'] = options.topic;
  event['pubsubname'] = options.pubsubName;
  event['specversion'] ??= '1.0';
  event['source'] ??= 'Dapr';
  event['type'] ??= DAPR_EVENT_TYPE;
  event['time'] ??= new Date().toISOString();
  event['traceid'] ??= traceparent;
  event['traceparent'] ??= traceparent;
  event['tracestate'] ??= options.trace?.tracestate ?? '';
  if (options.expiration) event['expiration'] ??= options.expiration.toISOString();
  applyOverrides(event, options.metadata);
  return event;
}

/** The envelope a `rawPayload` subscriber receives around raw broker bytes. */
export function rawPayloadCloudEvent(data: Buffer, topic: string, pubsubName: string): CloudEvent {
  return {
    id: randomUUID(),
    specversion: '1.0',
    datacontenttype: 'application/octet-stream',
    source: 'Dapr',
    type: DAPR_EVENT_TYPE,
    topic,
    pubsubname: pubsubName,
    traceid: '',
    traceparent: '',
    tracestate: '',
    data_base64: data.toString('base64'),
  };
}

/** True when the event carries an `expiration` in the past. */
export function hasExpired(event: CloudEvent, now = Date.now()): boolean {
  const expiration = event['expiration'];
  if (typeof expiration !== 'string' || expiration === '') return false;
  const at = Date.parse(expiration);
  return Number.isFinite(at) && at < now;
}
