/**
 * Delivering events to the app over the app channel and reading its answer with daprd's contract
 * (pkg/runtime/subscription/postman): 2xx + `SUCCESS`/empty → success; 2xx + `RETRY` → retry; 2xx +
 * `DROP` → drop (dead letter); 2xx + any other status → retry, with a warning naming it; a 2xx body
 * daprd cannot decode into `{status: string}` (not JSON, not an object, a status that is not a
 * string) → success; 404 → dropped without dead-lettering; any other status, an unreachable app or a
 * timeout → retry. Statuses are case-sensitive, as Go's comparison is. Bulk answers are per entry, and
 * a missing entry or an empty status means RETRY.
 */
import { randomUUID } from 'node:crypto';
import type { AppCallback, AppChannel } from '../../appchannel/app-channel.js';
import type { CloudEvent } from './cloudevents.js';
import { CLOUDEVENT_CONTENT_TYPE, keysSorted, serializeCloudEvent } from './cloudevents.js';

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
  /** A second signal that also ends the attempt (a resiliency policy's attempt timeout). */
  attemptSignal?: AbortSignal | undefined;
  /** The delivery span's context, sent instead of the event's own `traceparent`. */
  traceparent?: string;
  /**
   * The event's bytes as the broker carried them, sent as they are when they already serialise it
   * the way {@link serializeCloudEvent} would (top-level keys sorted), instead of serialising again.
   */
  bytes?: Buffer | undefined;
}


/** The result of one attempt, with a reason for logs when it is not success. */
export interface DeliveryResult {
  verdict: Verdict;
  reason?: string;
  /** Set when the app's answer is one daprd would also retry but the app may not mean to (a status it does not know). */
  warning?: string;
}

/** The statuses daprd knows, spelled exactly (Go compares them case-sensitively). */
function statusVerdict(value: string): Verdict | undefined {
  switch (value) {
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

/**
 * A field of a JSON object as Go's `encoding/json` fills a struct field: the key matches
 * case-insensitively and the last matching key wins.
 */
function goField(object: Record<string, unknown>, name: string): unknown {
  let value: unknown;
  for (const [key, v] of Object.entries(object)) if (key.toLowerCase() === name) value = v;
  return value;
}

/** Why an unknown status is retried, for the warning (daprd retries it too, so an app must not rely on it). */
function unknownStatusWarning(status: string, what: string): string {
  return (
    `unknown status ${JSON.stringify(status)} returned from app while processing ${what}; retrying it, as Dapr does: ` +
    'the status must be exactly "SUCCESS", "RETRY", "DROP" or empty (statuses are case-sensitive)'
  );
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

/** Controllers of finished, never-aborted delivery calls, for the next calls. */
const spareControllers: AbortController[] = [];
const MAX_SPARE_CONTROLLERS = 256;

async function post(
  callback: AppCallback,
  channel: AppChannel,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
  attemptSignal?: AbortSignal,
): Promise<{ status: number; body: Buffer } | { error: string }> {
  // One controller per call (AbortSignal.any on a long-lived parent signal piles up listeners on Node 20),
  // taken from a pool: making one costs microseconds, and one never aborted can serve the next call.
  const controller = spareControllers.pop() ?? new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  if (signal?.aborted || attemptSignal?.aborted) controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  attemptSignal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await channel.call({ method: 'POST', path, headers, body, signal: controller.signal, callback });
    return { status: res.status, body: res.body };
  } catch (err) {
    return { error: timedOut ? `the app did not answer within ${timeoutMs}ms` : (err as Error).message };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    attemptSignal?.removeEventListener('abort', onAbort);
    // The call is over (its body read): reusable unless aborted. (undici drops its listener when the
    // response stream closes, a tick later; until then an abort would only destroy that finished stream.)
    if (!controller.signal.aborted && spareControllers.length < MAX_SPARE_CONTROLLERS) spareControllers.push(controller);
  }
}

/** Delivers one event and interprets the answer. */
export async function deliverEvent(options: DeliverOptions): Promise<DeliveryResult> {
  const headers = deliveryHeaders(CLOUDEVENT_CONTENT_TYPE, options.pubsubName, options.metadata, options.event);
  if (options.traceparent) headers['traceparent'] = options.traceparent;
  const body = options.bytes && keysSorted(options.event) ? options.bytes : serializeCloudEvent(options.event);
  const res = await post(
    { kind: 'topic-event', topic: options.topic, pubsubName: options.pubsubName },
    options.channel,
    options.path,
    headers,
    body,
    options.timeoutMs,
    options.signal,
    options.attemptSignal,
  );
  if ('error' in res) return { verdict: 'retry', reason: res.error };
  if (res.status === 404) return { verdict: 'notFound', reason: `the app answered 404 on ${options.path}` };
  if (res.status < 200 || res.status > 299) return { verdict: 'retry', reason: `the app answered HTTP ${res.status}` };
  const json = parseJson(res.body);
  // daprd decodes the body into {status string}; when that fails it skips the status check: success.
  if (typeof json !== 'object' || Array.isArray(json)) return { verdict: 'success' };
  const status = json === null ? undefined : goField(json as Record<string, unknown>, 'status');
  if (status === undefined || status === null || status === '') return { verdict: 'success' };
  if (typeof status !== 'string') return { verdict: 'success' };
  const verdict = statusVerdict(status);
  if (!verdict) {
    const warning = unknownStatusWarning(status, `pub/sub event ${String(options.event['id'])} on topic ${options.topic}`);
    return { verdict: 'retry', reason: `unknown status ${JSON.stringify(status)} in the app's answer`, warning };
  }
  return verdict === 'success' ? { verdict } : { verdict, reason: `the app answered ${status}` };
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
): Promise<{ verdicts: Map<string, Verdict>; reason?: string; warnings?: string[] }> {
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
  const statuses = typeof json === 'object' && json !== null && !Array.isArray(json) ? goField(json as Record<string, unknown>, 'statuses') : undefined;
  if (!Array.isArray(statuses)) return { verdicts, reason: 'the app answered without "statuses"' };
  const warnings: string[] = [];
  const undecodable = { verdicts: all('retry'), reason: "failed unmarshalling the app's answer for bulk subscribe" };
  for (const item of statuses) {
    if (item === null) continue;
    // daprd decodes into [{entryId string, status string}]: any other shape fails the whole answer.
    if (typeof item !== 'object' || Array.isArray(item)) return undecodable;
    const entryId = goField(item as Record<string, unknown>, 'entryid') ?? '';
    const status = goField(item as Record<string, unknown>, 'status') ?? '';
    if (typeof entryId !== 'string' || typeof status !== 'string') return undecodable;
    // Unlike single delivery, an empty status means RETRY.
    if (!verdicts.has(entryId) || status === '') continue;
    const verdict = statusVerdict(status);
    if (!verdict) warnings.push(unknownStatusWarning(status, `bulk entry ${entryId} on topic ${options.topic}`));
    verdicts.set(entryId, verdict ?? 'retry');
  }
  return { verdicts, ...(warnings.length > 0 ? { warnings } : {}) };
}
