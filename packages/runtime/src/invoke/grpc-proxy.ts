/**
 * gRPC proxying by `dapr-app-id` metadata: a plain gRPC call to any method other than Dapr's own API,
 * sent to this sidecar's gRPC port with `dapr-app-id: <target>`, goes to the target's sidecar (over
 * its gRPC port, HTTP/2 end to end, so streaming and trailers pass through untouched) and from there,
 * after the callee's access control, to the target app's gRPC port.
 *
 * With mTLS the hop goes to the callee's internal port instead (TLS, ALPN `h2`), where the caller is
 * the SPIFFE ID of its certificate ({@link GrpcProxy.handlePeer}); a hop arriving in plain text on the
 * public port is refused, since nothing there proves who sent it.
 *
 * The caller's app resiliency policy applies on the first hop (see `grpc-proxy-policy.ts`).
 */
import http2 from 'node:http2';
import type { AccessControlSpec } from '../acl/access-control.js';
import { isAllowed } from '../acl/access-control.js';
import { GrpcCode } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { NameResolver } from '../nameresolution/resolver.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import { childTraceparent } from './headers.js';
import { ProxyTargetError, proxyUnderPolicy } from './grpc-proxy-policy.js';
import type { Mtls } from '../security/mtls.js';
import type { SpiffeId } from '../security/spiffe.js';
import { tokenMatches } from '../security/api-token.js';
import { describeTlsFailure } from '../security/tls-failure.js';
import type { ExpectedIdentity } from '../security/tls-material.js';
import { calleeIdentity } from './sidecar-transport.js';
import { traceProxyHop } from '../observability/grpc-spans.js';
import type { Tracer } from '../observability/tracing.js';

/** Options of {@link GrpcProxy}. */
export interface GrpcProxyOptions {
  appId: string;
  namespace: string;
  resolver: NameResolver;
  acl: AccessControlSpec | undefined;
  apiToken?: string;
  /** This app's gRPC address when it speaks gRPC and can take calls now. */
  app(): { host: string; port: number } | undefined;
  logger: Logger;
  /** Sidecar-to-sidecar hops over mTLS to the internal port; plain h2c to the gRPC port when absent. */
  mtls?: Mtls | undefined;
  /** Send plain-text proxied calls to the callee's internal port (cleartext HTTP/2) instead of its gRPC API port. */
  viaInternalPort?: boolean | undefined;
  /** SERVER and CLIENT spans per proxied hop. */
  tracer?: Pick<Tracer, 'startSpan'> | undefined;
  /** App-target policies (timeout, retry, circuit breaker), applied on the caller's side. */
  resiliency?: Resiliency | undefined;
  /**
   * Told about every proxied call when it ends, with its gRPC status: as a `server` call on the
   * caller's sidecar and a `client` call on the callee's (how daprd's metrics count them).
   */
  onProxiedCall?: (role: 'server' | 'client', method: string, code: number, durationMs: number) => void;
}

/** Paths served by the sidecar itself, never proxied. */
const OWN_SERVICES = ['/dapr.proto.runtime.v1.Dapr/', '/TaskHubSidecarService/', '/grpc.health.v1.Health/'];
const DROPPED = new Set(['dapr-api-token', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te']);

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

/** True on the callee's sidecar: the hop came from the caller's sidecar for this app. */
const isCalleeHop = (headers: http2.IncomingHttpHeaders, target: string, appId: string) =>
  first(headers['dapr-caller-app-id']) !== '' && target.split('.')[0] === appId;

/** The gRPC status each proxied stream was answered with, for the metrics. */
const answered = new WeakMap<http2.ServerHttp2Stream, number>();

function fail(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  answered.set(stream, code);
  if (stream.destroyed || stream.closed) return;
  // gRPC's percent-encoding: only bytes outside printable ASCII, and '%' (clients decode no more).
  const encoded = message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
  const trailers = { 'grpc-status': String(code), 'grpc-message': encoded, 'content-type': 'application/grpc' };
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond({ ':status': 200, ...trailers }, { endStream: true });
}

/** The raw-stream handler and its HTTP/2 client sessions. */
export class GrpcProxy {
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  constructor(private readonly options: GrpcProxyOptions) {}

  /** Takes streams that carry `dapr-app-id` for a method that is not the sidecar's own. */
  readonly handle = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean => {
    const target = first(headers['dapr-app-id']);
    const path = first(headers[':path']);
    if (!target || OWN_SERVICES.some((p) => path.startsWith(p))) return false;
    stream.on('error', () => {});
    // With mTLS the callee's hop arrives at `handlePeer`; here it is a plain-text hop, refused below.
    this.observe(stream, path, !this.options.mtls && isCalleeHop(headers, target, this.options.appId) ? 'client' : 'server');
    this.proxy(stream, headers, target, path).catch((err: unknown) => {
      fail(stream, GrpcCode.INTERNAL, `failed to proxy request: ${(err as Error).message}`);
    });
    return true;
  };

  /**
   * Takes proxied calls arriving as cleartext HTTP/2 on the internal port (Kubernetes mode without
   * mTLS): only the callee's hop — a call from another sidecar for this app — is served there, so the
   * port is no relay onward to other apps.
   */
  readonly handlePlainPeer = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean => {
    const target = first(headers['dapr-app-id']);
    if (this.options.mtls || !isCalleeHop(headers, target, this.options.appId)) return false;
    return this.handle(stream, headers);
  };

  /** Reports the call to `onProxiedCall` when its stream closes. */
  private observe(stream: http2.ServerHttp2Stream, path: string, role: 'server' | 'client'): void {
    const observe = this.options.onProxiedCall;
    if (!observe) return;
    const started = performance.now();
    stream.once('close', () => observe(role, path, answered.get(stream) ?? GrpcCode.CANCELLED, performance.now() - started));
  }

  /** Closes the client sessions. */
  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  /** Takes a hop that arrived over mTLS on the internal port; `caller` is its verified identity. */
  readonly handlePeer = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, caller: SpiffeId | undefined): void => {
    stream.on('error', () => {});
    this.observe(stream, first(headers[':path']), 'client');
    const target = first(headers['dapr-app-id']);
    if (target.split('.')[0] !== this.options.appId) {
      fail(stream, GrpcCode.INVALID_ARGUMENT, `failed to proxy request: this sidecar serves ${this.options.appId}, not "${target}"`);
      return;
    }
    const out: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !DROPPED.has(name) && name !== ':authority' && name !== ':scheme') out[name] = value;
    }
    // The app sees the identity from the certificate, never what the caller claimed.
    delete out['dapr-caller-namespace'];
    out['dapr-caller-app-id'] = caller?.appId ?? '';
    if (caller) out['dapr-caller-namespace'] = caller.namespace;
    this.toApp(stream, out, first(headers[':path']), { appId: caller?.appId ?? '', namespace: caller?.namespace ?? '', trustDomain: caller?.trustDomain ?? '' });
  };

  private async proxy(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, target: string, path: string): Promise<void> {
    const { appId, apiToken, mtls } = this.options;
    const caller = first(headers['dapr-caller-app-id']);
    if (mtls && caller !== '' && target.split('.')[0] === appId) {
      fail(
        stream,
        GrpcCode.UNAUTHENTICATED,
        `failed to proxy request: the sidecar of ${appId} requires mTLS and the calling sidecar spoke plain text: enable mTLS (--enable-mtls) on both sidecars`,
      );
      return;
    }
    const isCallee = !mtls && caller !== '' && target.split('.')[0] === appId;
    // The app's token guards calls from the app; sidecar-to-sidecar hops carry the caller id instead.
    if (!isCallee && apiToken && !tokenMatches(apiToken, headers['dapr-api-token'])) {
      fail(stream, GrpcCode.UNAUTHENTICATED, 'invalid api token');
      return;
    }
    const out: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !DROPPED.has(name) && name !== ':authority' && name !== ':scheme') out[name] = value;
    }
    if (isCallee) {
      this.toApp(stream, out, path, { appId: caller, namespace: first(headers['dapr-caller-namespace']) });
      return;
    }
    out['dapr-caller-app-id'] = appId;
    out['dapr-callee-app-id'] = target.split('.')[0] ?? target;
    if (this.options.namespace) out['dapr-caller-namespace'] = this.options.namespace;
    out['traceparent'] = childTraceparent(first(headers['traceparent']) || undefined);
    const callee = mtls ? calleeIdentity(target, this.options.namespace) : undefined;
    if (this.options.tracer) traceProxyHop(this.options.tracer, path, headers, out, stream, target);
    // As in daprd, the policy guards calls to other apps, not an app calling itself.
    const calleeId = target.split('.')[0] ?? target;
    const policy = calleeId === appId ? undefined : this.options.resiliency?.policyFor({ kind: 'app', name: calleeId, endpoint: `${target}:${path}` });
    if (policy && !policy.isNoop) {
      await proxyUnderPolicy({
        stream,
        policy,
        streamHeader: first(headers['dapr-stream']),
        open: async () => this.session(await this.sidecarOf(target), callee).request(out),
        relay: (upstream) => this.relay(stream, upstream, target, callee),
      });
      return;
    }
    let origin: string;
    try {
      origin = await this.sidecarOf(target);
    } catch (err) {
      fail(stream, GrpcCode.UNAVAILABLE, (err as Error).message);
      return;
    }
    this.forward(stream, out, origin, callee);
  }

  /**
   * The origin of the target's sidecar: its internal port over TLS with mTLS, else its gRPC port.
   * Throws {@link ProxyTargetError} when it is unknown.
   */
  private async sidecarOf(target: string): Promise<string> {
    let address;
    try {
      address = await this.options.resolver.resolve(target);
    } catch (err) {
      throw new ProxyTargetError(`failed to proxy request: failed to resolve ${target}: ${(err as Error).message}`);
    }
    if (this.options.mtls) return `https://${address.host}:${address.port}`;
    if (this.options.viaInternalPort) return `http://${address.host}:${address.port}`;
    if (!address.grpcPort) throw new ProxyTargetError(`failed to proxy request: no gRPC port known for ${target}`);
    return `http://${address.host}:${address.grpcPort}`;
  }

  /** The callee side: access control for `caller`, then on to the app. */
  private toApp(stream: http2.ServerHttp2Stream, out: http2.OutgoingHttpHeaders, path: string, caller: { appId: string; namespace: string; trustDomain?: string }): void {
    const { appId } = this.options;
    const allowed = isAllowed(this.options.acl, {
      callerAppId: caller.appId,
      callerNamespace: caller.namespace,
      ...(caller.trustDomain !== undefined ? { callerTrustDomain: caller.trustDomain } : {}),
      operation: path,
      verb: 'POST',
    });
    if (!allowed) {
      fail(stream, GrpcCode.PERMISSION_DENIED, `access control policy has denied access to appid: ${caller.appId} operation: ${path}`);
      return;
    }
    const app = this.options.app();
    if (!app) {
      fail(stream, GrpcCode.UNAVAILABLE, `app ${appId} is not a ready gRPC app`);
      return;
    }
    delete out['dapr-app-id'];
    // `out` still carries the caller's trace headers: the hop's spans continue that trace.
    if (this.options.tracer) traceProxyHop(this.options.tracer, path, { ...out }, out, stream, appId);
    this.forward(stream, out, `http://${app.host}:${app.port}`);
  }

  private session(origin: string, callee?: ExpectedIdentity): http2.ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const { mtls } = this.options;
    const session = callee && mtls ? http2.connect(origin, mtls.clientOptions(callee)) : http2.connect(origin);
    session.on('error', () => {});
    session.on('close', () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    });
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }

  private forward(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders, origin: string, callee?: ExpectedIdentity): void {
    this.relay(stream, this.session(origin, callee).request(headers), origin, callee);
  }

  /** Relays an open upstream stream both ways, untouched; `to` names the target in logs. */
  private relay(stream: http2.ServerHttp2Stream, upstream: http2.ClientHttp2Stream, to: string, callee?: ExpectedIdentity): void {
    let trailers: http2.IncomingHttpHeaders | undefined;
    let trailersOnly = false;
    stream.pipe(upstream);
    upstream.on('response', (response) => {
      trailersOnly = response['grpc-status'] !== undefined;
      if (trailersOnly) answered.set(stream, Number(first(response['grpc-status'])));
      if (trailersOnly) stream.respond(response, { endStream: true });
      else stream.respond(response, { waitForTrailers: true });
    });
    upstream.on('trailers', (t) => (trailers = t));
    upstream.on('data', (chunk: Buffer) => {
      if (!trailersOnly) stream.write(chunk);
    });
    upstream.on('end', () => {
      if (!trailersOnly && !stream.closed) stream.end();
    });
    stream.on('wantTrailers', () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(trailers ?? { 'grpc-status': '0' })) if (!k.startsWith(':') && v !== undefined) out[k] = v;
      answered.set(stream, Number(out['grpc-status'] ?? 0));
      stream.sendTrailers(out);
    });
    upstream.on('error', (err) => {
      this.options.logger.debug(`gRPC proxy to ${to} failed: ${err.message}`);
      const tlsCause = callee ? describeTlsFailure(err, callee.appId) : undefined;
      fail(stream, GrpcCode.UNAVAILABLE, `failed to proxy request: ${tlsCause ?? err.message}`);
    });
    stream.on('close', () => {
      if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
    });
  }
}
