/**
 * The HTTP adapter: matches the route table with find-my-way, enforces `dapr-api-token` and the body
 * limit, calls the handler and renders its reply or its {@link ApiError}. Nothing a request does can
 * crash the process: unexpected errors become `500 ERR_INTERNAL` and are logged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import FindMyWay from 'find-my-way';
import type { HTTPVersion } from 'find-my-way';
import { ApiError, commonErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import { readBody } from './body.js';
import type { HttpReply, HttpRequestContext, HttpRoute } from './types.js';

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
  /**
   * Tried on every request that passed the token check, before its route runs (service invocation:
   * a `dapr-app-id` header or basic auth makes any path an invocation).
   */
  intercept?: FallbackHandler;
}

function tokenMatches(expected: Buffer, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
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
    this.server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      options.logger.debug('malformed HTTP request', { error: err.message });
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections and closes idle ones. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
    const body = needsBody ? await readBody(req, this.options.maxRequestBodyBytes) : Buffer.alloc(0);
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.params)) if (value !== undefined) params[name] = value;
    const context: HttpRequestContext = {
      method,
      path,
      params,
      query: new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1)),
      headers: req.headers,
      body,
    };
    sendReply(res, await route.handler(context));
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof ApiError) {
      if (err.httpStatus >= 500) this.options.logger.warn(`API error ${err.code}: ${err.message}`);
      sendError(res, err);
      return;
    }
    this.options.logger.error('unexpected error while serving a request', {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    sendError(res, commonErrors.internal('internal error while serving the request'));
  }
}
