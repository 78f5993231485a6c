/**
 * gRPC proxying by `dapr-app-id` metadata: a plain gRPC call to any method other than Dapr's own API,
 * sent to this sidecar's gRPC port with `dapr-app-id: <target>`, goes to the target's sidecar (over
 * its gRPC port, HTTP/2 end to end, so streaming and trailers pass through untouched) and from there,
 * after the callee's access control, to the target app's gRPC port.
 */
import http2 from 'node:http2';
import type { AccessControlSpec } from '../acl/access-control.js';
import { isAllowed } from '../acl/access-control.js';
import { GrpcCode } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { NameResolver } from '../nameresolution/resolver.js';
import { childTraceparent } from './headers.js';

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
  const trailers = { 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message), 'content-type': 'application/grpc' };
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
    const observe = this.options.onProxiedCall;
    if (observe) {
      const started = performance.now();
      const role = isCalleeHop(headers, target, this.options.appId) ? 'client' : 'server';
      stream.once('close', () => observe(role, path, answered.get(stream) ?? GrpcCode.CANCELLED, performance.now() - started));
    }
    this.proxy(stream, headers, target, path).catch((err: unknown) => {
      fail(stream, GrpcCode.INTERNAL, `failed to proxy request: ${(err as Error).message}`);
    });
    return true;
  };

  /** Closes the client sessions. */
  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  private async proxy(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, target: string, path: string): Promise<void> {
    const { appId, apiToken } = this.options;
    const caller = first(headers['dapr-caller-app-id']);
    const isCallee = isCalleeHop(headers, target, appId);
    // The app's token guards calls from the app; sidecar-to-sidecar hops carry the caller id instead.
    if (!isCallee && apiToken && first(headers['dapr-api-token']) !== apiToken) {
      fail(stream, GrpcCode.UNAUTHENTICATED, 'invalid api token');
      return;
    }
    const out: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !DROPPED.has(name) && name !== ':authority' && name !== ':scheme') out[name] = value;
    }
    let origin: string;
    if (isCallee) {
      const allowed = isAllowed(this.options.acl, {
        callerAppId: caller,
        callerNamespace: first(headers['dapr-caller-namespace']),
        operation: path,
        verb: 'POST',
      });
      if (!allowed) {
        fail(stream, GrpcCode.PERMISSION_DENIED, `access control policy has denied access to appid: ${caller} operation: ${path}`);
        return;
      }
      const app = this.options.app();
      if (!app) {
        fail(stream, GrpcCode.UNAVAILABLE, `app ${appId} is not a ready gRPC app`);
        return;
      }
      delete out['dapr-app-id'];
      origin = `http://${app.host}:${app.port}`;
    } else {
      let address;
      try {
        address = await this.options.resolver.resolve(target);
      } catch (err) {
        fail(stream, GrpcCode.UNAVAILABLE, `failed to proxy request: failed to resolve ${target}: ${(err as Error).message}`);
        return;
      }
      if (!address.grpcPort) {
        fail(stream, GrpcCode.UNAVAILABLE, `failed to proxy request: no gRPC port known for ${target}`);
        return;
      }
      out['dapr-caller-app-id'] = appId;
      out['dapr-callee-app-id'] = target.split('.')[0] ?? target;
      if (this.options.namespace) out['dapr-caller-namespace'] = this.options.namespace;
      out['traceparent'] = childTraceparent(first(headers['traceparent']) || undefined);
      origin = `http://${address.host}:${address.grpcPort}`;
    }
    this.forward(stream, out, origin);
  }

  private session(origin: string): http2.ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(origin);
    session.on('error', () => {});
    session.on('close', () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    });
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }

  private forward(stream: http2.ServerHttp2Stream, headers: http2.OutgoingHttpHeaders, origin: string): void {
    const upstream = this.session(origin).request(headers);
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
      this.options.logger.debug(`gRPC proxy to ${origin} failed: ${err.message}`);
      fail(stream, GrpcCode.UNAVAILABLE, `failed to proxy request: ${err.message}`);
    });
    stream.on('close', () => {
      if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
    });
  }
}
