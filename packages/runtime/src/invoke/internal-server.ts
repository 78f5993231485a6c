/**
 * The callee side of service invocation: the sidecar-to-sidecar port. It applies this app's access
 * control to the calling app id, then passes the request to the app through the app channel and
 * streams the answer back. Errors are rendered as Dapr's and travel back through the caller sidecar
 * unchanged.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AccessControlSpec } from '../acl/access-control.js';
import { isAllowed } from '../acl/access-control.js';
import { sendError } from '../api/http/server.js';
import type { AppChannel, AppStreamResponse } from '../appchannel/app-channel.js';
import { ApiError, commonErrors, invokeErrors } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import { passThroughHeaders } from './headers.js';
import type { InvocationMetrics } from '../observability/invocation-metrics.js';
import { traceIncomingInvocation } from '../observability/invoke-spans.js';
import type { Tracer } from '../observability/tracing.js';
import { declaredTooLarge, drainRequest, limitedBody } from './limited-body.js';
import { closeHttp, listenHttp } from '../util/http-server.js';

/** What the internal server needs from the sidecar. */
export interface InvokeInternalServerOptions {
  appId: string;
  acl: AccessControlSpec | undefined;
  /** The app channel, read per call (it may appear after start-up). */
  channel(): AppChannel | undefined;
  /** Whether the app can take traffic (port discovered and, with health checks, healthy). */
  appReady(): boolean;
  maxBodyBytes: number;
  logger: Logger;
  /** Callee-side `dapr_runtime_service_invocation_*` recorders. */
  metrics?: InvocationMetrics | undefined;
  /** A span per call into the app, continuing the caller's trace. */
  tracer?: Pick<Tracer, 'startSpanFromHeaders' | 'startSpan'> | undefined;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

/** The sidecar-to-sidecar HTTP server. */
export class InvokeInternalServer {
  private readonly server: http.Server;

  constructor(private readonly options: InvokeInternalServerOptions) {
    this.server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      const metrics = options.metrics;
      if (metrics) {
        const caller = first(req.headers['dapr-caller-app-id']);
        metrics.requestReceived(caller);
        res.once('finish', () => metrics.responseSent(caller, res.statusCode));
      }
      // The app sees this sidecar's CLIENT span as its parent, under the SERVER span of this hop.
      if (options.tracer) traceIncomingInvocation(options.tracer, options.appId, req, res);
      this.handle(req, res).catch((err: unknown) => {
        const apiError = err instanceof ApiError ? err : invokeErrors.failed(options.appId, (err as Error).message, err);
        if (apiError.httpStatus >= 500) options.logger.warn(`invocation failed: ${apiError.message}`);
        sendError(res, apiError);
      });
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return listenHttp(this.server, port, host);
  }

  /** Stops accepting calls. */
  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { appId, maxBodyBytes } = this.options;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    const caller = first(req.headers['dapr-caller-app-id']);
    const allowed = isAllowed(this.options.acl, {
      callerAppId: caller,
      callerNamespace: first(req.headers['dapr-caller-namespace']),
      operation: path,
      verb: method,
    });
    if (!allowed) throw invokeErrors.denied(appId, caller, path, method);
    const channel = this.options.channel();
    if (!channel) throw invokeErrors.failed(appId, 'app channel is not initialized (the app has no --app-port)');
    if (!this.options.appReady()) throw invokeErrors.failed(appId, 'app is not ready or not healthy');
    if (declaredTooLarge(req, maxBodyBytes)) {
      await drainRequest(req, 256 * 1024 * 1024);
      throw commonErrors.bodyTooLarge(maxBodyBytes);
    }
    const body = limitedBody(req, maxBodyBytes);
    // The caller's sidecar closing the connection cancels the call into the app.
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const request = {
      signal: abort.signal,
      method,
      path,
      ...(queryAt === -1 ? {} : { query: url.slice(queryAt + 1) }),
      headers: passThroughHeaders(req.headers),
      ...(body ? { body } : {}),
    };
    let response: AppStreamResponse;
    try {
      if (channel.stream) {
        response = await channel.stream(request);
      } else {
        const whole = await channel.call(request);
        response = { ...whole, body: Readable.from([whole.body]) };
      }
    } catch (err) {
      if (body?.exceeded) {
        await drainRequest(req, 256 * 1024 * 1024);
        throw commonErrors.bodyTooLarge(maxBodyBytes);
      }
      body?.destroy();
      throw invokeErrors.failed(appId, (err as Error).message, err);
    }
    res.writeHead(response.status, passThroughHeaders(response.headers as Record<string, string | string[]>, ['keep-alive']));
    try {
      await pipeline(response.body, res);
    } catch (err) {
      this.options.logger.debug(`response of ${appId} broke off: ${(err as Error).message}`);
      res.destroy();
    }
  }
}
