/**
 * Spans of service invocation hops. The caller's sidecar opens a CLIENT span per attempt toward the
 * callee's sidecar; the callee's sidecar opens a SERVER span for the incoming hop and a CLIENT span
 * for its call into the app, whose context is the `traceparent` the app receives. All are named
 * `CallLocal/<app-id>/<method>` as daprd names invocation spans, and carry `rpc.service` =
 * `ServiceInvocation`; an HTTP status of 400 or more marks them failed (`Code(<status>): <text>`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ATTR, httpStatusMessage } from './api-spans.js';
import type { Span, Tracer } from './tracing.js';

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function endWithStatus(span: Span, status: number): void {
  const message = httpStatusMessage(status);
  span.end({ attributes: { 'http.status_code': status }, error: message !== undefined, ...(message ? { message } : {}) });
}

/** The headers of an outgoing request, with a new span's context in place of the caller's. */
function withSpanHeaders(headers: Record<string, string | string[]>, span: Span): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...headers, traceparent: span.traceparent };
  if (span.tracestate) out['tracestate'] = span.tracestate;
  return out;
}

/** An outgoing request that carries its headers as a plain record. */
interface OutgoingRequest {
  method: string;
  path: string;
  headers?: unknown;
}

/**
 * Runs one sidecar-to-sidecar attempt under a CLIENT span: the request goes out with the span's
 * `traceparent` (a child of the one it carries, i.e. the API server span), and the span ends with
 * the answer's status or the failure.
 */
export async function traceInvokeCall<R extends OutgoingRequest, T extends { statusCode: number }>(
  tracer: Pick<Tracer, 'startSpanFromHeaders'> | undefined,
  target: { appId: string; method: string },
  request: R,
  send: (request: R) => Promise<T>,
): Promise<T> {
  if (!tracer) return send(request);
  const headers = (request.headers ?? {}) as Record<string, string | string[]>;
  const appId = target.appId.split('.')[0] ?? target.appId;
  const method = target.method.replace(/^\/+/, '');
  const span = tracer.startSpanFromHeaders(`CallLocal/${appId}/${method}`, 'CLIENT', first(headers['traceparent']), first(headers['tracestate']), {
    [ATTR.rpcService]: 'ServiceInvocation',
    [ATTR.netPeerName]: appId,
    [ATTR.daprInvokeMethod]: method,
    'http.method': request.method,
  });
  try {
    const response = await send({ ...request, headers: withSpanHeaders(headers, span) });
    endWithStatus(span, response.statusCode);
    return response;
  } catch (err) {
    span.end({ error: true, message: (err as Error).message });
    throw err;
  }
}

/**
 * The callee side of one invocation: a SERVER span for the hop from the caller's sidecar and a CLIENT
 * span for the call into the app. The request's `traceparent` is replaced with the CLIENT span's, so
 * the app (through the app channel) sees it as its parent; both end when the answer is sent.
 */
export function traceIncomingInvocation(tracer: Pick<Tracer, 'startSpanFromHeaders' | 'startSpan'>, appId: string, req: IncomingMessage, res: ServerResponse): void {
  const method = (req.url ?? '/').split('?')[0]?.replace(/^\/+/, '') ?? '';
  const name = `CallLocal/${appId}/${method}`;
  const attributes = { [ATTR.rpcService]: 'ServiceInvocation', [ATTR.daprInvokeMethod]: method, 'http.method': req.method ?? 'GET' };
  const server = tracer.startSpanFromHeaders(name, 'SERVER', first(req.headers['traceparent']), first(req.headers['tracestate']), attributes);
  const client = tracer.startSpan(name, { kind: 'CLIENT', parent: server.context, attributes: { ...attributes, [ATTR.netPeerName]: appId } });
  req.headers['traceparent'] = client.traceparent;
  if (client.tracestate) req.headers['tracestate'] = client.tracestate;
  res.once('finish', () => {
    endWithStatus(client, res.statusCode);
    endWithStatus(server, res.statusCode);
  });
  res.once('close', () => {
    // Ending twice is harmless; a connection that broke off before `finish` still ends its spans.
    if (res.writableFinished) return;
    client.end({ error: true, message: 'the call was cancelled' });
    server.end({ error: true, message: 'the call was cancelled' });
  });
}
