/**
 * The caller side of HTTP service invocation: finds the target, resolves the callee's sidecar and
 * forwards the request to its internal port, streaming the body both ways. Sidecar to sidecar is
 * HTTP/1.1 with keep-alive on an undici pool: measured on loopback it carried ~1.8× the requests/s
 * of Node's h2c client at lower p50, and it needs no framing of our own for streamed bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { ApiError, commonErrors, invokeErrors } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { NameResolver, ResolvedAddress } from '../nameresolution/resolver.js';
import { AppNotFoundError } from '../nameresolution/resolver.js';
import { outboundInvokeHeaders, passThroughHeaders } from './headers.js';
import type { CallerInfo } from './headers.js';
import type { HttpEndpoints } from './http-endpoints.js';
import { declaredTooLarge, drainRequest, limitedBody } from './limited-body.js';
import type { LimitedBody } from './limited-body.js';
import { findInvokeTarget } from './target.js';
import type { InvokeTarget } from './target.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import type { InvocationMetrics } from '../observability/invocation-metrics.js';
import { traceInvokeCall } from '../observability/invoke-spans.js';
import type { Tracer } from '../observability/tracing.js';
import { noopPolicy } from '../resiliency/policy.js';
import type { PolicyRunner } from '../resiliency/policy.js';
import { StatusCodeError, isFailureHttpStatus } from '../resiliency/retry.js';
import { plainTransport } from './sidecar-transport.js';
import type { SidecarTransport } from './sidecar-transport.js';
import { relayBody } from '../util/relay-body.js';
import { isWarmUp } from './warm-up.js';
import { CallerGone } from '../util/caller-gone.js';
import { undici } from '../util/load-undici.js';

/** A buffered answer of the callee (status, headers, whole body). */
export interface BufferedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** A failing answer under a policy: retried if `matching` allows, and passed back when retries end. */
class FailedAnswerError extends StatusCodeError {
  constructor(readonly answer: BufferedAnswer) {
    super(`the app answered HTTP ${answer.status}`, answer.status);
  }
}

/** Options of {@link InvokeForwarder}. */
export interface InvokeForwarderOptions {
  appId: string;
  namespace: string;
  resolver: NameResolver;
  endpoints: HttpEndpoints;
  maxBodyBytes: number;
  /** This sidecar's address, for `Forwarded: by=`. */
  sidecarAddress: string;
  logger: Logger;
  /** How long a resolved address is reused before asking the resolver again. @default 1000 */
  resolveCacheMs?: number;
  /** App-target policies (timeout, retry, circuit breaker) applied on this, the caller's, side. */
  resiliency?: Resiliency | undefined;
  /** Caller-side `dapr_runtime_service_invocation_*` recorders. */
  metrics?: InvocationMetrics | undefined;
  /** How callee sidecars are dialled (mTLS or plain). @default plainTransport */
  transport?: SidecarTransport | undefined;
  /** A CLIENT span per attempt toward the callee. */
  tracer?: Pick<Tracer, 'startSpanFromHeaders'> | undefined;
}

const HOP_BY_HOP_RESPONSE: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding']);
/** Most bytes of a refused body read before answering 413 (beyond it the connection is cut). */
const DRAIN_CAP = 256 * 1024 * 1024;

/** Forwards invocations from this sidecar's HTTP API. */
export class InvokeForwarder {
  /** The pool to callee sidecars, built at the first call (undici loads then: `util/load-undici.ts`). */
  private agent: Agent | undefined;
  private readonly transport: SidecarTransport;
  private readonly cache = new Map<string, { address: ResolvedAddress; until: number; refreshAt: number }>();
  /** Lookups under way, shared by the calls that wait for them. */
  private readonly lookups = new Map<string, Promise<ResolvedAddress>>();

  constructor(private readonly options: InvokeForwarderOptions) {
    this.transport = options.transport ?? plainTransport;
  }

  private pool(): Agent {
    this.agent ??= new (undici().Agent)({
      connections: 256,
      keepAliveTimeout: 30_000,
      // The callee decides how long a method takes; resiliency policies bound it from outside.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this.transport.connect,
    });
    return this.agent;
  }

  /** The HTTP server hook: true when the request was an invocation and has been answered. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const target = findInvokeTarget(req.url ?? '/', req.headers);
    if (!target) return false;
    if (declaredTooLarge(req, this.options.maxBodyBytes)) {
      await drainRequest(req, DRAIN_CAP);
      throw commonErrors.bodyTooLarge(this.options.maxBodyBytes);
    }
    const external = this.options.endpoints.lookup(target.appId);
    // The app id without its namespace: the callee's own name in headers, metrics and policies.
    const calleeName = external ? undefined : (target.appId.split('.')[0] ?? target.appId);
    const caller: CallerInfo = {
      appId: this.options.appId,
      namespace: this.options.namespace,
      remoteAddress: req.socket.remoteAddress,
      sidecarAddress: this.options.sidecarAddress,
    };
    let origin: string;
    let path: string;
    let headers: Record<string, string | string[]>;
    if (external) {
      origin = external.origin;
      path = external.basePath + target.method;
      headers = { ...outboundInvokeHeaders(req.headers, target, target.appId, caller), ...external.headers };
    } else {
      const address = await this.resolve(target.appId);
      origin = this.transport.origin(address.host, address.port, target.appId);
      path = target.method;
      headers = outboundInvokeHeaders(req.headers, target, calleeName ?? target.appId, caller);
    }
    if (target.query) path += `?${target.query}`;
    // Traced, the CLIENT span of each attempt (see `send`) is the child of this request's span.
    if (this.options.tracer && req.headers.traceparent) headers['traceparent'] = req.headers.traceparent;
    const policy = this.policyFor(target.appId, external ? origin + external.basePath : target.method);
    const callee = calleeName;
    if (!policy.isNoop) {
      const answer = await this.observed(callee, () => this.sendWithPolicy(policy, target, origin, req, { method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path, headers }), (a) => a.status);
      res.writeHead(answer.status, passThroughHeaders(answer.headers, HOP_BY_HOP_RESPONSE));
      res.end(answer.body);
      return true;
    }
    const body = limitedBody(req, this.options.maxBodyBytes);
    // A caller that gives up (timeout, disconnect) cancels the call downstream, so a hanging callee
    // holds no connection of ours once nobody waits for it.
    const abort = new CallerGone();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await this.observed(
        callee,
        () => this.send(target, origin, { method: (req.method ?? 'GET') as Dispatcher.HttpMethod, path, headers, body: body ?? null, signal: abort }, body, isWarmUp(req.headers)),
        (u) => u.statusCode,
      );
    } catch (err) {
      if (body?.exceeded) await drainRequest(req, DRAIN_CAP);
      throw err;
    }
    const responseHeaders = passThroughHeaders(upstream.headers as Record<string, string | string[]>, HOP_BY_HOP_RESPONSE);
    res.writeHead(upstream.statusCode, responseHeaders);
    try {
      await relayBody(upstream.body, res);
    } catch (err) {
      // Headers are out: all we can do is cut the connection so the client sees a truncated reply.
      this.options.logger.debug(`invocation of ${target.appId} broke off mid-response: ${(err as Error).message}`);
      res.destroy();
    }
    return true;
  };

  /**
   * Sends one request to an app's sidecar (or an external target) under the app's resiliency policy
   * and returns the buffered answer; the gRPC `InvokeService` uses this.
   */
  async request(appId: string, request: { method: string; path: string; headers: Record<string, string | string[]>; body?: Buffer }): Promise<BufferedAnswer> {
    const target: InvokeTarget = { appId, method: request.path, query: '', via: 'path' };
    const external = this.options.endpoints.lookup(appId);
    const headers: Record<string, string | string[]> = { ...request.headers, 'dapr-caller-app-id': this.options.appId, 'dapr-callee-app-id': appId.split('.')[0] ?? appId };
    if (this.options.namespace) headers['dapr-caller-namespace'] = this.options.namespace;
    let origin: string;
    let path = request.path;
    if (external) {
      origin = external.origin;
      path = external.basePath + path;
      Object.assign(headers, external.headers);
    } else {
      const address = await this.resolve(appId);
      origin = this.transport.origin(address.host, address.port, appId);
    }
    const policy = this.policyFor(appId, external ? origin + external.basePath : request.path.split('?')[0] ?? '');
    const callee = external ? undefined : (appId.split('.')[0] ?? appId);
    const once = async (signal?: AbortSignal): Promise<BufferedAnswer> => {
      const upstream = await this.send(target, origin, { method: request.method as Dispatcher.HttpMethod, path, headers, body: request.body ?? null, ...(signal ? { signal } : {}) }, undefined);
      return { status: upstream.statusCode, headers: upstream.headers as Record<string, string | string[]>, body: Buffer.from(await upstream.body.arrayBuffer()) };
    };
    return this.observed(callee, () => (policy.isNoop ? once() : this.underPolicy(policy, appId, once)), (a) => a.status);
  }

  /** Runs a call to `callee` (undefined for external endpoints) and records it in the invocation metrics. */
  private async observed<T>(callee: string | undefined, call: () => Promise<T>, statusOf: (result: T) => number): Promise<T> {
    const metrics = callee === undefined ? undefined : this.options.metrics;
    if (!metrics || callee === undefined) return call();
    metrics.requestSent(callee);
    const started = performance.now();
    try {
      const result = await call();
      metrics.responseReceived(callee, statusOf(result), performance.now() - started);
      return result;
    } catch (err) {
      metrics.responseReceived(callee, err instanceof ApiError ? err.httpStatus : 500, performance.now() - started);
      throw err;
    }
  }

  /**
   * The app policy; its circuit breaker is per endpoint as in daprd: `<appId>:<method>` for an app,
   * `<appId>:<base URL>` for an external endpoint.
   */
  private policyFor(appId: string, methodOrBaseUrl: string): PolicyRunner {
    if (!this.options.resiliency?.hasAppPolicies) return noopPolicy;
    const endpoint = `${appId}:${methodOrBaseUrl.replace(/^\/+/, '')}`;
    return this.options.resiliency?.policyFor({ kind: 'app', name: appId.split('.')[0] ?? appId, endpoint }) ?? noopPolicy;
  }

  /**
   * Invocation under a policy: the body is buffered so each attempt can send it again, and answers
   * the policy counts as failures are retried; the last one goes back to the caller unchanged.
   */
  private async sendWithPolicy(
    policy: PolicyRunner,
    target: InvokeTarget,
    origin: string,
    req: IncomingMessage,
    request: { method: Dispatcher.HttpMethod; path: string; headers: Record<string, string | string[]> },
  ): Promise<BufferedAnswer> {
    const stream = limitedBody(req, this.options.maxBodyBytes);
    let body: Buffer | null = null;
    if (stream) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk as Buffer);
      } catch {
        // The size check below answers; other read errors are the caller going away.
      }
      if (stream.exceeded) {
        await drainRequest(req, DRAIN_CAP);
        throw commonErrors.bodyTooLarge(this.options.maxBodyBytes);
      }
      body = Buffer.concat(chunks);
    }
    return this.underPolicy(policy, target.appId, async (signal) => {
      const upstream = await this.send(target, origin, { ...request, body, ...(signal ? { signal } : {}) }, undefined);
      return { status: upstream.statusCode, headers: upstream.headers as Record<string, string | string[]>, body: Buffer.from(await upstream.body.arrayBuffer()) };
    });
  }

  /** Runs attempts under a policy: failing answers are retried, the last one is returned as it is. */
  private async underPolicy(policy: PolicyRunner, appId: string, attempt: (signal?: AbortSignal) => Promise<BufferedAnswer>): Promise<BufferedAnswer> {
    try {
      return await policy.execute(async ({ signal }) => {
        const answer = await attempt(signal);
        if (isFailureHttpStatus(answer.status)) throw new FailedAnswerError(answer);
        return answer;
      });
    } catch (err) {
      if (err instanceof FailedAnswerError) return err.answer;
      if (err instanceof ApiError) throw err;
      // Timeouts and an open circuit breaker: the call failed without an answer.
      throw invokeErrors.failed(appId, (err as Error).message, err);
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.agent?.close();
  }

  /** {@link sendUntraced} under a CLIENT span whose context the callee receives. */
  private send(target: InvokeTarget, origin: string, request: Omit<Dispatcher.RequestOptions, 'origin'>, body: LimitedBody | undefined, warmUp = false): Promise<Dispatcher.ResponseData> {
    // A warm-up call (see warm-up.ts) leaves no span.
    return traceInvokeCall(warmUp ? undefined : this.options.tracer, target, request, (traced) => this.sendUntraced(target, origin, traced, body));
  }

  private async sendUntraced(
    target: InvokeTarget,
    origin: string,
    request: Omit<Dispatcher.RequestOptions, 'origin'>,
    body: LimitedBody | undefined,
  ): Promise<Dispatcher.ResponseData> {
    try {
      // Every attempt builds its own request object, so it can take the origin without a copy.
      (request as Dispatcher.RequestOptions).origin = origin;
      return await this.pool().request(request as Dispatcher.RequestOptions);
    } catch (err) {
      if (body?.exceeded) throw commonErrors.bodyTooLarge(this.options.maxBodyBytes);
      body?.destroy();
      // The callee may have moved (restarted on a new port): resolve afresh next time.
      this.cache.delete(target.appId);
      throw invokeErrors.failed(target.appId, this.transport.describe(err, target.appId) ?? (err as Error).message, err);
    }
  }

  /**
   * The address of `appId`'s sidecar, cached for `resolveCacheMs`. A lookup reads the registry (files
   * or a service), so it is never on the path of a steady stream of calls: concurrent misses share one
   * lookup, and an entry past 3/4 of its life is refreshed in the background while it is still served
   * (an address is never older than `resolveCacheMs`, as before).
   */
  private resolve(appId: string): Promise<ResolvedAddress> | ResolvedAddress {
    const now = Date.now();
    const cached = this.cache.get(appId);
    if (cached && cached.until > now) {
      if (cached.refreshAt <= now && !this.lookups.has(appId)) this.lookup(appId).catch(() => {});
      return cached.address;
    }
    return this.lookups.get(appId) ?? this.lookup(appId);
  }

  private lookup(appId: string): Promise<ResolvedAddress> {
    const pending = (async () => {
      try {
        const address = await this.options.resolver.resolve(appId);
        const ttl = this.options.resolveCacheMs ?? 1000;
        const now = Date.now();
        this.cache.set(appId, { address, until: now + ttl, refreshAt: now + (ttl * 3) / 4 });
        return address;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (err instanceof AppNotFoundError) throw invokeErrors.failed(appId, err.message, err);
        throw invokeErrors.failed(appId, `failed to resolve address: ${(err as Error).message}`, err);
      } finally {
        this.lookups.delete(appId);
      }
    })();
    this.lookups.set(appId, pending);
    return pending;
  }
}
