/**
 * Header rules of service invocation: what the caller's sidecar removes (hop-by-hop headers, its own
 * API token, the target selectors), what it adds for the callee app (`dapr-caller-app-id`,
 * `dapr-callee-app-id`, `traceparent`, forwarding headers), and what comes back.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { newSpanId, newTraceId } from '../observability/trace-context.js';
import type { InvokeTarget } from './target.js';

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

/** Copies headers minus hop-by-hop ones and those named in `drop`. */
export function passThroughHeaders(headers: IncomingHttpHeaders, drop: readonly string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A child `traceparent`: same trace id and flags as the incoming one (or a new sampled trace), new span id. */
export function childTraceparent(incoming: string | string[] | undefined): string {
  const match = typeof incoming === 'string' ? TRACEPARENT.exec(incoming.trim()) : null;
  const span = newSpanId();
  if (match) return `00-${match[1] ?? ''}-${span}-${match[3] ?? '01'}`;
  return `00-${newTraceId()}-${span}-01`;
}

/** Who is calling, for the headers added toward the callee. */
export interface CallerInfo {
  appId: string;
  namespace: string;
  /** The client's address as the caller sidecar saw it. */
  remoteAddress: string | undefined;
  /** This sidecar's address (the `by` of `Forwarded`). */
  sidecarAddress: string;
}

/** The headers a callee receives for an invocation. */
export function outboundInvokeHeaders(
  incoming: IncomingHttpHeaders,
  target: InvokeTarget,
  calleeAppId: string,
  caller: CallerInfo,
): Record<string, string | string[]> {
  const drop = ['dapr-api-token', 'dapr-app-id', 'dapr-caller-app-id', 'dapr-callee-app-id', 'dapr-caller-namespace'];
  if (target.via === 'basic-auth') drop.push('authorization');
  const headers = passThroughHeaders(incoming, drop);
  headers['dapr-caller-app-id'] = caller.appId;
  headers['dapr-callee-app-id'] = calleeAppId;
  if (caller.namespace) headers['dapr-caller-namespace'] = caller.namespace;
  headers['traceparent'] = childTraceparent(incoming.traceparent);
  const client = caller.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const priorFor = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${client}` : client;
  const host = incoming.host ?? '';
  if (host) headers['x-forwarded-host'] = host;
  headers['forwarded'] = `by=${caller.sidecarAddress};for=${client}${host ? `;host=${host}` : ''}`;
  return headers;
}
