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
export function passThroughHeaders(headers: IncomingHttpHeaders, dropped?: ReadonlySet<string> | readonly string[]): Record<string, string | string[]> {
  // Hot paths pass a constant Set; an array is for the odd caller.
  const drop = Array.isArray(dropped) ? new Set<string>(dropped) : (dropped as ReadonlySet<string> | undefined);
  const out: Record<string, string | string[]> = {};
  // for…in rather than Object.entries: no array of pairs per request (the headers object has no prototype chain of note).
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Request headers the caller's sidecar never forwards: its own token and the invocation headers it sets itself. */
const DROPPED = new Set(['dapr-api-token', 'dapr-app-id', 'dapr-caller-app-id', 'dapr-callee-app-id', 'dapr-caller-namespace']);
/** The same, plus `authorization` when basic auth named the target. */
const DROPPED_WITH_AUTH = new Set([...DROPPED, 'authorization']);

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
  const headers = passThroughHeaders(incoming, target.via === 'basic-auth' ? DROPPED_WITH_AUTH : DROPPED);
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
