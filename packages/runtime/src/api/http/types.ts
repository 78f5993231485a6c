/**
 * The shapes of the HTTP adapter: routes are data (method, path, API group, endpoint name, handler),
 * so the server, metrics, tracing and API allow-lists all read one table (STYLE.md #7).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** HTTP methods Weft routes. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

/** A decoded request, independent of Node's `IncomingMessage`. */
export interface HttpRequestContext {
  method: string;
  /** Path without the query string. */
  path: string;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The whole body (empty for routes that do not read it). */
  body: Buffer;
}

/** What a handler answers. `json` is serialised; `body` is sent as is. */
export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: Buffer | string;
}

/** One route of the API table. */
export interface HttpRoute {
  methods: readonly HttpMethod[];
  /** find-my-way pattern, e.g. `/v1.0/state/:storeName/:key`; `*` captures the rest. */
  path: string;
  /** API group for `api.allowed`/`api.denied` (`state`, `secrets`, `healthz` …). */
  group: string;
  /** Endpoint name for metrics and tracing, e.g. `GetState`. */
  name: string;
  /** Health routes skip the `dapr-api-token` check. */
  public?: boolean;
  handler(request: HttpRequestContext): Promise<HttpReply> | HttpReply;
}

/** A 204 with no body. */
export const noContent = (): HttpReply => ({ status: 204 });

/** A JSON reply. */
export const jsonReply = (status: number, json: unknown, headers?: Record<string, string>): HttpReply => ({
  status,
  json,
  ...(headers ? { headers } : {}),
});

/** The `metadata.*` query parameters as a plain map (prefix stripped, first value wins). */
export function metadataFromQuery(query: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of query) {
    if (name.startsWith('metadata.')) {
      const key = name.slice('metadata.'.length);
      if (key !== '' && !(key in metadata)) metadata[key] = value;
    }
  }
  return metadata;
}
