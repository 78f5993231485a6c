/** HTTP routes of the pub/sub API: publish and bulk publish (`v1.0-alpha1`). Topics may contain `/`. */
import type { BulkEntryInput, PubSubPublisher } from './publish.js';
import { isCloudEventContentType, isJsonContentType } from './cloudevents.js';
import type { TraceContext } from './cloudevents.js';
import { pubsubErrors } from '../../errors/index.js';
import { isObject } from '../../api/http/decode.js';
import type { HttpReply, HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { jsonReply, metadataFromQuery, noContent } from '../../api/http/types.js';

function header(req: HttpRequestContext, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function traceOf(req: HttpRequestContext): TraceContext {
  const traceparent = header(req, 'traceparent');
  const tracestate = header(req, 'tracestate');
  return { ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) };
}

/** `{pubsub}/{topic...}` from the wildcard (already percent-decoded by the router); the topic keeps its slashes. */
function target(req: HttpRequestContext): { pubsubName: string; topic: string } {
  const rest = req.params['*'] ?? '';
  const at = rest.indexOf('/');
  if (at === -1) return { pubsubName: rest, topic: '' };
  return { pubsubName: rest.slice(0, at), topic: rest.slice(at + 1) };
}

/** Turns one bulk entry's `event` into bytes by its content type, as Dapr does. */
function eventBytes(event: unknown, contentType: string): Buffer | undefined {
  if (isCloudEventContentType(contentType)) return isObject(event) ? Buffer.from(JSON.stringify(event)) : undefined;
  if (isJsonContentType(contentType)) return Buffer.from(JSON.stringify(event ?? null));
  if (contentType.toLowerCase().startsWith('application/octet-stream')) {
    return typeof event === 'string' ? Buffer.from(event, 'base64') : undefined;
  }
  if (typeof event === 'string') return Buffer.from(event);
  return Buffer.from(JSON.stringify(event ?? null));
}

function decodeBulkEntries(body: Buffer, pubsubName: string, topic: string): BulkEntryInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw pubsubErrors.unmarshalEvents(pubsubName, topic, (err as Error).message);
  }
  if (!Array.isArray(parsed)) throw pubsubErrors.unmarshalEvents(pubsubName, topic, 'the body must be a JSON array of entries');
  return parsed.map((raw: unknown, i): BulkEntryInput => {
    if (!isObject(raw)) throw pubsubErrors.unmarshalEvents(pubsubName, topic, `entry ${i} is not an object`);
    // The JS SDK spells it entryID; Dapr reads it case-insensitively.
    const idKey = Object.keys(raw).find((k) => k.toLowerCase() === 'entryid');
    const entryId = idKey ? raw[idKey] : undefined;
    const contentType = typeof raw['contentType'] === 'string' && raw['contentType'] !== '' ? raw['contentType'] : 'text/plain';
    const data = eventBytes(raw['event'], contentType);
    if (data === undefined) {
      throw pubsubErrors.unmarshalEvents(pubsubName, topic, `entry ${i}: the event does not match its content type ${contentType}`);
    }
    const metadata: Record<string, string> = {};
    if (isObject(raw['metadata'])) for (const [k, v] of Object.entries(raw['metadata'])) metadata[k] = String(v);
    return { entryId: typeof entryId === 'string' ? entryId : '', data, contentType, metadata };
  });
}

/** The pub/sub routes over a {@link PubSubPublisher}. */
export function pubsubRoutes(publisher: PubSubPublisher): HttpRoute[] {
  const publish = async (req: HttpRequestContext): Promise<HttpReply> => {
    const { pubsubName, topic } = target(req);
    const contentType = header(req, 'content-type');
    await publisher.publish({
      pubsubName,
      topic,
      data: req.body,
      metadata: metadataFromQuery(req.query),
      trace: traceOf(req),
      ...(contentType ? { contentType } : {}),
    });
    return noContent();
  };
  const bulk = async (req: HttpRequestContext): Promise<HttpReply> => {
    const { pubsubName, topic } = target(req);
    // Resolve first so an unknown pubsub or empty topic wins over a malformed body.
    publisher.resolve(pubsubName, topic);
    const entries = decodeBulkEntries(req.body, pubsubName, topic);
    const failed = await publisher.bulkPublish(pubsubName, topic, entries, metadataFromQuery(req.query), traceOf(req));
    if (failed.length === 0) return noContent();
    return jsonReply(500, {
      // Dapr spells it entryId; the JS SDK reads entryID.
      failedEntries: failed.map((f) => ({ entryId: f.entryId, entryID: f.entryId, error: f.error })),
      errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE',
    });
  };
  return [
    { methods: ['POST', 'PUT'], path: '/v1.0/publish/*', group: 'publish', name: 'PublishEvent', handler: publish },
    { methods: ['POST', 'PUT'], path: '/v1.0-alpha1/publish/bulk/*', group: 'publish', name: 'BulkPublishEvent', handler: bulk },
  ];
}
