/**
 * Finds the invocation target of an HTTP request, in Dapr's order: the `dapr-app-id` header on any
 * path, then basic auth with user `dapr-app-id`, then `/v1.0/invoke/{appId}/method/{method...}`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { invokeErrors } from '../errors/index.js';

/** Who to call and what. */
export interface InvokeTarget {
  /** App id, `app-id.namespace`, an HTTPEndpoint name or an `http(s)://` URL (unescaped). */
  appId: string;
  /** Method path on the callee, starting with `/` (may contain further segments). */
  method: string;
  /** Raw query string without `?`. */
  query: string;
  /** Which form named the target; decides which request headers are removed. */
  via: 'header' | 'basic-auth' | 'path';
}

const INVOKE_PREFIX = '/v1.0/invoke/';

function basicAuthAppId(header: string | undefined): string | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1 || decoded.slice(0, colon) !== 'dapr-app-id') return undefined;
  return decoded.slice(colon + 1) || undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The target, or undefined when the request is not an invocation; throws 404 for a malformed invoke path. */
export function findInvokeTarget(url: string, headers: IncomingHttpHeaders): InvokeTarget | undefined {
  // Most API requests are none of the three forms: say so without building anything.
  if (headers['dapr-app-id'] === undefined && headers.authorization === undefined && !url.includes('invoke/')) return undefined;
  const queryAt = url.indexOf('?');
  const path = (queryAt === -1 ? url : url.slice(0, queryAt)).replace(/\/{2,}/g, '/');
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const header = headers['dapr-app-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader) return { appId: fromHeader, method: path, query, via: 'header' };
  const fromAuth = basicAuthAppId(headers.authorization);
  if (fromAuth) return { appId: fromAuth, method: path, query, via: 'basic-auth' };
  // An external URL keeps its `//` (`/v1.0/invoke/http://host/method/x`), so look in the raw path too.
  const raw = queryAt === -1 ? url : url.slice(0, queryAt);
  if (!raw.startsWith(INVOKE_PREFIX) && !path.startsWith(INVOKE_PREFIX)) return undefined;
  const rest = raw.startsWith(INVOKE_PREFIX) ? raw.slice(INVOKE_PREFIX.length) : path.slice(INVOKE_PREFIX.length);
  const at = rest.indexOf('/method');
  if (at <= 0 || (rest.length > at + 7 && rest[at + 7] !== '/')) throw invokeErrors.noAppId();
  const appId = decode(rest.slice(0, at));
  const method = `/${rest.slice(at + 8).replace(/^\/+/, '')}`.replace(/\/{2,}/g, '/');
  return { appId, method, query, via: 'path' };
}
