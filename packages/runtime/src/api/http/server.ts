/**
 * The HTTP adapter: matches the route table with find-my-way, enforces `dapr-api-token` and the body
 * limit, calls the handler and renders its reply or its {@link ApiError}. Nothing a request does can
 * crash the process: unexpected errors become `500 ERR_INTERNAL` and are logged.
 */
import http from 'node:http';
import FindMyWay from 'find-my-way';
import type { HTTPVersion } from 'find-my-way';
import { ApiError, commonErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import { readBody } from './body.js';
import type { HttpReply, HttpRequestContext, HttpRoute } from './types.js';
import type { Tracer } from '../../observability/tracing.js';
import { httpApiSpan } from '../../observability/api-spans.js';
import { findInvokeTarget } from '../../invoke/target.js';
import { isWarmUp } from '../../invoke/warm-up.js';
import { tokenMatches } from '../../security/api-token.js';
import { closeHttp, listenHttp } from '../../util/http-server.js';

/** A handler for requests no route matched (service invocation plugs in here). */
export type FallbackHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/** Options of {@link HttpApiServer}. */
export interface HttpApiServerOptions {
  routes: readonly HttpRoute[];
  logger: Logger;
  maxRequestBodyBytes: number;
  apiToken?: string;
  /** Tried before answering 404 for an unmatched request. */
  fallback?: FallbackHandler;
  /** Told about every finished request (metrics, API logging). */
  observer?: (record: HttpRequestRecord) => void;
  /** Told about every API error a request is answered with (`dapr_error_code_total`). */
  onApiError?: (err: ApiError) => void;
  /**
   * Time a client has to send the request headers; a slower client (slowloris) is cut off with 408.
   * @default 60000
   */
  headersTimeoutMs?: number;
  /** Starts a server span per request (W3C `traceparent` in, `traceparent` out). */
  tracer?: Pick<Tracer, 'startSpanFromHeaders'>;
  /** Time a client has to send the whole request (headers and body). @default 300000 */
  requestTimeoutMs?: number;
  /** Largest accepted header block; larger gets 431. @default 16384 (Node's default) */
  maxHeaderBytes?: number;
  /**
   * Tried on every request that passed the token check, before its route runs (service invocation:
   * a `dapr-app-id` header or basic auth makes any path an invocation).
   */
  intercept?: FallbackHandler;
}

/** What the observer learns about a finished request. */
export interface HttpRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path and query as received. */
  url: string;
  /** The matched route; undefined for unmatched requests. */
  route?: HttpRoute;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

interface RequestInfo {
  route?: HttpRoute;
  params?: Record<string, string>;
  requestBytes: number;
}

/** Writes an {@link HttpReply}. */
export function sendReply(res: http.ServerResponse, reply: HttpReply): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  let payload: Buffer | string | undefined = reply.body;
  if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    headers['content-type'] ??= 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Writes an API error as Dapr does: JSON `{errorCode, message[, details]}` with its HTTP status. */
export function sendError(res: http.ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  // After refusing a body we did not read, close the connection rather than drain the rest.
  if (err.httpStatus === 413) headers['connection'] = 'close';
  sendReply(res, { status: err.httpStatus, json: err.toJSON(), headers });
}

/** The body of a request that has none (GET, HEAD, DELETE); empty, so one buffer serves all. */
const NO_BODY = Buffer.alloc(0);

interface RouteStore {
  route: HttpRoute;
}

/** The sidecar's HTTP API server. */
export class HttpApiServer {
  private readonly router = FindMyWay<HTTPVersion.V1>({
    ignoreTrailingSlash: true,
    ignoreDuplicateSlashes: true,
    caseSensitive: true,
    maxParamLength: 2048,
  });
  private readonly server: http.Server;
  private readonly token: Buffer | undefined;

  constructor(private readonly options: HttpApiServerOptions) {
    for (const route of options.routes) {
      this.router.on([...route.methods], route.path, () => {}, { route } satisfies RouteStore);
    }
    this.token = options.apiToken ? Buffer.from(options.apiToken) : undefined;
    const headersTimeout = options.headersTimeoutMs ?? 60_000;
    const requestTimeout = Math.max(options.requestTimeoutMs ?? 300_000, headersTimeout);
    this.server = http.createServer(
      {
        keepAliveTimeout: 65_000,
        headersTimeout,
        requestTimeout,
        maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
        // Node checks the two timeouts above only this often; keep it well below them.
        connectionsCheckingInterval: Math.max(25, Math.min(30_000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => {
        const info: RequestInfo = { requestBytes: Number(req.headers['content-length'] ?? 0) || 0 };
        // A warm-up call of this sidecar to itself is neither counted nor traced.
        const recorded = !isWarmUp(req.headers);
        if (options.observer && recorded) this.observe(req, res, info, options.observer);
        if (options.tracer && recorded) this.trace(req, res, info, options.tracer);
        this.handle(req, res, info).catch((err: unknown) => this.fail(res, err));
      },
    );
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
      options.logger.debug('rejected a malformed or slow HTTP request', { error: err.message, code: err.code });
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return listenHttp(this.server, port, host);
  }

  /** Stops accepting connections and closes idle ones. */
  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private observe(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo, observer: (r: HttpRequestRecord) => void): void {
    const started = performance.now();
    res.once('finish', () => {
      const url = req.url ?? '/';
      const queryAt = url.indexOf('?');
      const length = Number(res.getHeader('content-length') ?? 0);
      const record: HttpRequestRecord = {
        method: req.method ?? 'GET',
        path: queryAt === -1 ? url : url.slice(0, queryAt),
        url,
        status: res.statusCode,
        durationMs: performance.now() - started,
        requestBytes: info.requestBytes,
        responseBytes: Number.isFinite(length) ? length : 0,
      };
      if (info.route) record.route = info.route;
      observer(record);
    });
  }

  private trace(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo, tracer: Pick<Tracer, 'startSpanFromHeaders'>): void {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    // As daprd: health probes are not traced.
    if (path.includes('/healthz')) return;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    let invoke: { appId: string; method: string } | undefined;
    try {
      const target = findInvokeTarget(url, req.headers);
      if (target) invoke = { appId: target.appId, method: target.method };
    } catch {
      // A malformed invocation path is answered with 404 by the handler; the span is named by path.
    }
    const span = tracer.startSpanFromHeaders(path, 'SERVER', header('traceparent'), header('tracestate'));
    // Handlers (and calls they make onwards) see this span as the parent.
    req.headers['traceparent'] = span.traceparent;
    if (span.tracestate) req.headers['tracestate'] = span.tracestate;
    res.setHeader('traceparent', span.traceparent);
    const headers = { ...req.headers };
    res.once('finish', () => {
      const details = httpApiSpan({ method: req.method ?? 'GET', path, group: info.route?.group, params: info.params, status: res.statusCode, headers, invoke });
      span.end(details);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo): Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    let found;
    try {
      found = this.router.find(method as 'GET', path);
    } catch {
      throw commonErrors.malformedRequest(`malformed request path: ${path}`);
    }
    const route = (found?.store as RouteStore | undefined)?.route;
    if (route) info.route = route;
    if (this.token && !route?.public && !tokenMatches(this.token, req.headers['dapr-api-token'])) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('invalid api token');
      return;
    }
    if (this.options.intercept && (await this.options.intercept(req, res))) return;
    if (!found || !route) {
      if (this.options.fallback && (await this.options.fallback(req, res))) return;
      throw commonErrors.notFound(method, path);
    }
    const needsBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
    const body = needsBody ? await readBody(req, this.options.maxRequestBodyBytes) : NO_BODY;
    if (needsBody) info.requestBytes = body.length;
    const params: Record<string, string> = {};
    for (const name in found.params) {
      const value = found.params[name];
      if (value !== undefined) params[name] = value;
    }
    info.params = params;
    let query: URLSearchParams | undefined;
    const context: HttpRequestContext = {
      method,
      path,
      params,
      // Parsed when a handler first reads it: most requests carry no query string.
      get query() {
        query ??= new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
        return query;
      },
      headers: req.headers,
      body,
    };
    sendReply(res, await route.handler(context));
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    let api: ApiError;
    if (err instanceof ApiError) {
      if (err.httpStatus >= 500) this.options.logger.warn(`API error ${err.code}: ${err.message}`);
      api = err;
    } else {
      this.options.logger.error('unexpected error while serving a request', {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      api = commonErrors.internal('internal error while serving the request');
    }
    this.options.onApiError?.(api);
    sendError(res, api);
  }
}
