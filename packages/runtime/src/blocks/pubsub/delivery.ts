/**
 * Delivering events to the app over the app channel and reading its answer with Dapr's contract:
 * 2xx + `SUCCESS`/empty/non-JSON → success; 2xx + `RETRY` → retry; 2xx + `DROP` → drop (dead letter);
 * 2xx + another status → retry; 404 → dropped without dead-lettering; any other status, an
 * unreachable app or a timeout → retry. Bulk answers are per entry, and a missing entry means RETRY.
 */
import { randomUUID } from 'node:crypto';
import type { AppCallback, AppChannel } from '../../appchannel/app-channel.js';
import type { CloudEvent } from './cloudevents.js';
import { CLOUDEVENT_CONTENT_TYPE, serializeCloudEvent } from './cloudevents.js';

/** What the app decided about one event. `notFound` is a 404: dropped, never dead-lettered. */
export type Verdict = 'success' | 'retry' | 'drop' | 'notFound';

/** One delivery attempt of a single event. */
export interface DeliverOptions {
  channel: AppChannel;
  path: string;
  pubsubName: string;
  /** The topic the event was received on. */
  topic: string;
  event: CloudEvent;
  /** Broker metadata, sent as headers. */
  metadata: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The delivery span's context, sent instead of the event's own `traceparent`. */
  traceparent?: string;
}

/** The result of one attempt, with a reason for logs when it is not success. */
export interface DeliveryResult {
  verdict: Verdict;
  reason?: string;
}

function statusVerdict(value: unknown): Verdict | undefined {
  if (value === undefined || value === null || value === '') return 'success';
  if (typeof value !== 'string') return undefined;
  switch (value.toUpperCase()) {
    case 'SUCCESS':
      return 'success';
    case 'RETRY':
      return 'retry';
    case 'DROP':
      return 'drop';
    default:
      return undefined;
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Headers Dapr puts on a delivery: broker metadata, `pubsubname`, trace context. */
function deliveryHeaders(contentType: string, pubsubName: string, metadata: Record<string, string>, event?: CloudEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    // Only header-safe names and values; the rest stays in the event.
    if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && !/[\r\n]/.test(v)) headers[k.toLowerCase()] = v;
  }
  const traceparent = event?.['traceparent'];
  const tracestate = event?.['tracestate'];
  if (typeof traceparent === 'string' && traceparent !== '') headers['traceparent'] = traceparent;
  if (typeof tracestate === 'string' && tracestate !== '') headers['tracestate'] = tracestate;
  headers['pubsubname'] = pubsubName;
  headers['content-type'] = contentType;
  return headers;
}

async function post(
  callback: AppCallback,
  channel: AppChannel,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: Buffer } | { error: string }> {
  // One controller per call (AbortSignal.any on a long-lived parent signal piles up listeners on Node 20).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await channel.call({ method: 'POST', path, headers, body, signal: controller.signal, callback });
    return { status: res.status, body: res.body };
  } catch (err) {
    return { error: timedOut ? `the app did not answer within ${timeoutMs}ms` : (err as Error).message };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Delivers one event and interprets the answer. */
export async function deliverEvent(options: DeliverOptions): Promise<DeliveryResult> {
  const headers = deliveryHeaders(CLOUDEVENT_CONTENT_TYPE, options.pubsubName, options.metadata, options.event);
  if (options.traceparent) headers['traceparent'] = options.traceparent;
  const res = await post({ kind: 'topic-event', topic: options.topic, pubsubName: options.pubsubName }, options.channel, options.path, headers, serializeCloudEvent(options.event), options.timeoutMs, options.signal);
  if ('error' in res) return { verdict: 'retry', reason: res.error };
  if (res.status === 404) return { verdict: 'notFound', reason: `the app answered 404 on ${options.path}` };
  if (res.status < 200 || res.status > 299) return { verdict: 'retry', reason: `the app answered HTTP ${res.status}` };
  const json = parseJson(res.body);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { verdict: 'success' };
  const status = (json as Record<string, unknown>)['status'];
  const verdict = statusVerdict(status);
  if (!verdict) return { verdict: 'retry', reason: `unknown status ${JSON.stringify(status)} in the app's answer` };
  return verdict === 'success' ? { verdict } : { verdict, reason: `the app answered ${String(status)}` };
}

/** One entry of a bulk delivery. */
export interface BulkEntry {
  entryId: string;
  /** The CloudEvent, or raw bytes (sent base64 as `application/octet-stream`). */
  event: CloudEvent | Buffer;
  metadata: Record<string, string>;
}

/** Delivers a batch; returns a verdict per entry id. */
export async function deliverBulk(
  options: Omit<DeliverOptions, 'event'> & { topic: string; entries: readonly BulkEntry[] },
): Promise<{ verdicts: Map<string, Verdict>; reason?: string }> {
  const body = {
    id: randomUUID(),
    type: 'com.dapr.event.sent.bulk',
    topic: options.topic,
    pubsubname: options.pubsubName,
    metadata: options.metadata,
    entries: options.entries.map((e) =>
      Buffer.isBuffer(e.event)
        ? { entryId: e.entryId, event: e.event.toString('base64'), metadata: e.metadata, contentType: 'application/octet-stream' }
        : { entryId: e.entryId, event: JSON.parse(serializeCloudEvent(e.event).toString('utf8')) as unknown, metadata: e.metadata, contentType: CLOUDEVENT_CONTENT_TYPE },
    ),
  };
  const headers = deliveryHeaders('application/json', options.pubsubName, options.metadata);
  const all = (verdict: Verdict) => new Map(options.entries.map((e) => [e.entryId, verdict]));
  const res = await post({ kind: 'bulk-topic-event', topic: options.topic, pubsubName: options.pubsubName }, options.channel, options.path, headers, Buffer.from(JSON.stringify(body)), options.timeoutMs, options.signal);
  if ('error' in res) return { verdicts: all('retry'), reason: res.error };
  if (res.status === 404) return { verdicts: all('notFound'), reason: `the app answered 404 on ${options.path}` };
  if (res.status < 200 || res.status > 299) return { verdicts: all('retry'), reason: `the app answered HTTP ${res.status}` };
  const verdicts = all('retry');
  const json = parseJson(res.body);
  const statuses = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['statuses'] : undefined;
  if (!Array.isArray(statuses)) return { verdicts, reason: 'the app answered without "statuses"' };
  for (const item of statuses) {
    if (typeof item !== 'object' || item === null) continue;
    const { entryId, status } = item as Record<string, unknown>;
    if (typeof entryId !== 'string' || !verdicts.has(entryId)) continue;
    // Unlike single delivery, an empty status means RETRY.
    const verdict = status === '' || status === undefined ? 'retry' : (statusVerdict(status) ?? 'retry');
    verdicts.set(entryId, verdict);
  }
  return { verdicts };
}
