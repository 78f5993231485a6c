/**
 * Pub/sub callbacks of gRPC apps (`AppCallback`): the pub/sub block speaks HTTP shapes to every
 * channel (`GET /dapr/subscribe`, a CloudEvent POSTed to the route, a bulk envelope), and this module
 * turns them into `ListTopicSubscriptions`, `OnTopicEvent` and the bulk calls, and the answers back
 * into the HTTP shapes the block reads. That keeps delivery, retries and dead-lettering in one place.
 *
 * Mapping of answers, as daprd does for gRPC apps: `UNIMPLEMENTED` is a 404 (dropped without a dead
 * letter; for `ListTopicSubscriptions`, no programmatic subscriptions), other errors a 500 (retried),
 * `TopicEventResponse.status` becomes `{"status": "SUCCESS" | "RETRY" | "DROP"}`, and a value outside
 * the enum its number as a string (an unknown status: retried, as daprd does).
 */
import * as grpc from '@grpc/grpc-js';
import type { AppResponse } from './app-channel.js';
import { AppUnreachableError } from './app-channel.js';

type Json = Record<string, unknown>;
type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: Json) => void) => void;

/** Fields of the envelope that have their own proto fields; every other key is an extension. */
const CE_FIELDS = new Set(['id', 'source', 'type', 'specversion', 'datacontenttype', 'data', 'data_base64']);

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A JSON value as `google.protobuf.Value` (proto-loader object form). */
function toValue(v: unknown): Json {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (isObj(v)) return { structValue: toStruct(v) };
  return { stringValue: String(v) };
}

function toStruct(o: Json): Json {
  const fields: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) fields[k] = toValue(v);
  return { fields };
}

const isText = (contentType: string): boolean => contentType.startsWith('text/') || contentType === '';
const isJson = (contentType: string): boolean => /(^application\/(.+\+)?json)|(\/json$)/i.test(contentType.split(';')[0]?.trim() ?? '');

/** The CloudEvent's payload bytes, as daprd fills `TopicEventRequest.data`. */
function eventData(event: Json): Buffer {
  if (typeof event['data_base64'] === 'string') return Buffer.from(event['data_base64'], 'base64');
  const data = event['data'];
  if (data === undefined || data === null) return Buffer.alloc(0);
  const contentType = str(event['datacontenttype']);
  if (typeof data === 'string' && (isText(contentType) || !isJson(contentType))) return Buffer.from(data);
  return Buffer.from(JSON.stringify(data));
}

/** The fields shared by `TopicEventRequest` and `TopicEventCERequest`. */
function cloudEventFields(event: Json): Json {
  const extensions: Json = {};
  for (const [k, v] of Object.entries(event)) if (!CE_FIELDS.has(k)) extensions[k] = v;
  return {
    id: str(event['id']),
    source: str(event['source']),
    type: str(event['type']),
    spec_version: str(event['specversion']),
    data_content_type: str(event['datacontenttype']),
    data: eventData(event),
    extensions: toStruct(extensions),
  };
}

/** `ListTopicSubscriptionsResponse` as the JSON `GET /dapr/subscribe` answers (v2 routes). */
export function subscriptionsAsJson(response: Json | undefined): unknown[] {
  const list = Array.isArray(response?.['subscriptions']) ? (response['subscriptions'] as unknown[]) : [];
  return list.filter(isObj).map((s) => {
    const routes = isObj(s['routes']) ? s['routes'] : {};
    const rules = Array.isArray(routes['rules']) ? routes['rules'].filter(isObj).map((r) => ({ match: str(r['match']), path: str(r['path']) })) : [];
    const bulk = isObj(s['bulk_subscribe']) ? s['bulk_subscribe'] : undefined;
    return {
      pubsubname: str(s['pubsub_name']),
      topic: str(s['topic']),
      metadata: isObj(s['metadata']) ? s['metadata'] : {},
      routes: { rules, ...(str(routes['default']) ? { default: str(routes['default']) } : {}) },
      ...(str(s['dead_letter_topic']) ? { deadLetterTopic: str(s['dead_letter_topic']) } : {}),
      ...(bulk?.['enabled'] === true
        ? { bulkSubscribe: { enabled: true, maxMessagesCount: bulk['max_messages_count'], maxAwaitDurationMs: bulk['max_await_duration_ms'] } }
        : {}),
    };
  });
}

/** `TopicEventRequest` for a CloudEvent received on `topic` and delivered to `path`. */
export function topicEventRequest(event: Json, path: string, topic: string, pubsubName: string): Json {
  return { ...cloudEventFields(event), topic, pubsub_name: pubsubName, path };
}

/** `TopicEventBulkRequest` from the HTTP bulk envelope the block builds. */
export function bulkTopicEventRequest(envelope: Json, path: string, topic: string, pubsubName: string): Json {
  const entries = Array.isArray(envelope['entries']) ? envelope['entries'].filter(isObj) : [];
  return {
    id: str(envelope['id']),
    type: str(envelope['type']),
    topic,
    pubsub_name: pubsubName,
    metadata: isObj(envelope['metadata']) ? envelope['metadata'] : {},
    path,
    entries: entries.map((e) => ({
      entry_id: str(e['entryId']),
      content_type: str(e['contentType']),
      metadata: isObj(e['metadata']) ? e['metadata'] : {},
      ...(isObj(e['event']) ? { cloud_event: cloudEventFields(e['event']) } : { bytes: Buffer.from(str(e['event']), 'base64') }),
    })),
  };
}

/** The HTTP-shaped answer for a failed callback. */
export function errorResponse(err: grpc.ServiceError, target: string): AppResponse {
  if (err.code === grpc.status.UNAVAILABLE) throw new AppUnreachableError(`app at ${target} is unreachable: ${err.details || err.message}`, { cause: err });
  const status = err.code === grpc.status.UNIMPLEMENTED ? 404 : 500;
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ code: err.code, message: err.details })) };
}

/** A 200 with a JSON body. */
export function jsonResponse(value: unknown): AppResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) };
}

/** Calls a unary method; resolves with the error instead of rejecting. */
export function callUnary(
  client: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata,
  signal: AbortSignal | undefined,
): Promise<{ err: grpc.ServiceError | null; response?: Json }> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (!fn) return Promise.reject(new Error(`no gRPC method ${method}`));
  return new Promise((resolve) => {
    const call = fn.call(client, request, metadata, {}, (err, response) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(response === undefined ? { err } : { err, response });
    }) as unknown as grpc.ClientUnaryCall;
    const onAbort = () => call.cancel();
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Statuses of a `TopicEventBulkResponse` as the HTTP bulk answer (`{statuses:[{entryId,status}]}`). */
export function bulkStatusesAsJson(response: Json | undefined): { statuses: { entryId: string; status: string }[] } {
  const list = Array.isArray(response?.['statuses']) ? (response['statuses'] as unknown[]).filter(isObj) : [];
  return { statuses: list.map((s) => ({ entryId: str(s['entry_id']), status: typeof s['status'] === 'number' ? String(s['status']) : typeof s['status'] === 'string' ? s['status'] : 'SUCCESS' })) };
}
