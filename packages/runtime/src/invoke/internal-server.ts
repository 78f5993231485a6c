/**
 * The callee side of service invocation: the sidecar-to-sidecar port. It applies this app's access
 * control to the calling app id, then passes the request to the app through the app channel and
 * streams the answer back. Errors are rendered as Dapr's and travel back through the caller sidecar
 * unchanged.
 *
 * Without mTLS the caller is who `dapr-caller-app-id` says. With mTLS the port speaks TLS only (see
 * `mtls-listener.ts`) and, as daprd does, the caller is the SPIFFE ID of its verified client
 * certificate: the header is ignored for access control and replaced by that identity toward the app.
 */
import http from 'node:http';
import net from 'node:net';
import http2 from 'node:http2';
import type tls from 'node:tls';
import { Readable } from 'node:stream';
import type { AccessControlSpec } from '../acl/access-control.js';
import { isAllowed } from '../acl/access-control.js';
import { sendError } from '../api/http/server.js';
import { readBody } from '../api/http/body.js';
import type { AppChannel, AppRequest, AppStreamResponse } from '../appchannel/app-channel.js';
import { ApiError, GrpcCode, commonErrors, invokeErrors } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import { passThroughHeaders } from './headers.js';
import type { InvocationMetrics } from '../observability/invocation-metrics.js';
import { traceIncomingInvocation } from '../observability/invoke-spans.js';
import type { Tracer } from '../observability/tracing.js';
import { declaredTooLarge, drainRequest, limitedBody } from './limited-body.js';
import { closeHttp, listenHttp } from '../util/http-server.js';
import type { Mtls } from '../security/mtls.js';
import type { SpiffeId } from '../security/spiffe.js';
import { MtlsListener } from './mtls-listener.js';
import { relayBody } from '../util/relay-body.js';
import { WARM_UP_METHOD, isWarmUp } from './warm-up.js';

/** Takes a proxied gRPC call that arrived over mTLS, with the caller's verified identity. */
export type PeerGrpcHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, caller: SpiffeId | undefined) => void;

/** Who is calling, as access control sees it. */
interface Caller {
  appId: string;
  namespace: string;
  /** Set only for an identity from a certificate. */
  trustDomain?: string;
}

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
  /** Mutual TLS on this port; plain HTTP when absent. */
  mtls?: Mtls | undefined;
  /** Where proxied gRPC calls (HTTP/2 over mTLS) go; read per call. */
  grpcStream?: (() => PeerGrpcHandler | undefined) | undefined;
  /**
   * Without mTLS: also take proxied gRPC calls as cleartext HTTP/2 (h2c) on this port, told apart from
   * HTTP/1.1 by the connection preface (Kubernetes mode, where the gRPC API listens on loopback only,
   * as daprd's internal port carries them). The handler returns false for a stream it does not take.
   */
  plainGrpcStream?: (() => PlainGrpcHandler | undefined) | undefined;
  /** Serves actor calls from other sidecars (`/weft-internal/actors/...`, see `blocks/actors`); read per call. */
  actorCalls?: (() => InternalActorHandler | undefined) | undefined;
}

/** Serves one actor call from another sidecar; gets the whole request body. */
export type InternalActorHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => Promise<void>;

/** The path prefix of actor calls between sidecars. */
const INTERNAL_ACTORS = '/weft-internal/actors/';

/** Takes a proxied gRPC call that arrived as cleartext HTTP/2; false when it is not a proxied call. */
export type PlainGrpcHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

/** The sidecar-to-sidecar HTTP server. */
export class InvokeInternalServer {
  private readonly server: http.Server;
  private readonly tls: MtlsListener | undefined;
  private readonly split: PrefaceSplitListener | undefined;

  constructor(private readonly options: InvokeInternalServerOptions) {
    this.server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      if (req.url === WARM_UP_METHOD && isWarmUp(req.headers)) {
        // This sidecar warming up its own paths (see warm-up.ts): answered here, never by the app.
        req.resume();
        res.writeHead(204);
        res.end();
        return;
      }
      const caller = this.callerOf(req);
      const metrics = options.metrics;
      if (metrics) {
        metrics.requestReceived(caller.appId);
        res.once('finish', () => metrics.responseSent(caller.appId, res.statusCode));
      }
      // The app sees this sidecar's CLIENT span as its parent, under the SERVER span of this hop.
      if (options.tracer) traceIncomingInvocation(options.tracer, options.appId, req, res);
      this.handle(req, res, caller).catch((err: unknown) => {
        const apiError = err instanceof ApiError ? err : invokeErrors.failed(options.appId, (err as Error).message, err);
        if (apiError.httpStatus >= 500) options.logger.warn(`invocation failed: ${apiError.message}`);
        sendError(res, apiError);
      });
    });
    const { mtls } = options;
    if (mtls) {
      const grpc = http2.createServer();
      grpc.on('stream', (stream, headers) => {
        const handler = options.grpcStream?.();
        if (handler) {
          handler(stream, headers, mtls.peerIdentity(stream.session?.socket as tls.TLSSocket));
          return;
        }
        stream.on('error', () => {});
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GrpcCode.UNIMPLEMENTED), 'grpc-message': 'gRPC proxying is not ready' }, { endStream: true });
      });
      this.tls = new MtlsListener({
        mtls,
        http1: this.server,
        http2: grpc,
        logger: options.logger,
        plaintextError: () =>
          invokeErrors.failed(
            options.appId,
            `the sidecar of ${options.appId} requires mTLS on its internal port and the calling sidecar spoke plain text: enable mTLS (--enable-mtls with a certificate signed by a shared trust anchor) on both sidecars`,
          ),
      });
    } else if (options.plainGrpcStream) {
      const plain = options.plainGrpcStream;
      const grpc = http2.createServer();
      grpc.on('stream', (stream, headers) => {
        if (plain()?.(stream, headers)) return;
        stream.on('error', () => {});
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GrpcCode.UNIMPLEMENTED), 'grpc-message': 'only proxied gRPC calls (with dapr-app-id) are served on the internal port' }, { endStream: true });
      });
      this.split = new PrefaceSplitListener(this.server, grpc);
    }
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    if (this.tls) return this.tls.listen(port, host);
    if (this.split) return this.split.listen(port, host);
    return listenHttp(this.server, port, host);
  }

  /** Stops accepting calls. */
  close(): Promise<void> {
    if (this.tls) return this.tls.close();
    if (this.split) return this.split.close();
    return closeHttp(this.server);
  }

  /**
   * The caller: from the verified client certificate under mTLS (none when it carries no SPIFFE ID,
   * which access control treats as an unknown app), else from the headers its sidecar set.
   */
  private callerOf(req: http.IncomingMessage): Caller {
    const { mtls } = this.options;
    if (!mtls) return { appId: first(req.headers['dapr-caller-app-id']), namespace: first(req.headers['dapr-caller-namespace']) };
    const id = mtls.peerIdentity(req.socket as tls.TLSSocket);
    const claimed = first(req.headers['dapr-caller-app-id']);
    if (claimed && claimed !== id?.appId) this.options.logger.debug(`ignoring dapr-caller-app-id "${claimed}": the caller's certificate says "${id?.appId ?? 'nothing'}"`);
    // The app sees the verified identity, never what the caller claimed.
    delete req.headers['dapr-caller-app-id'];
    delete req.headers['dapr-caller-namespace'];
    if (!id) return { appId: '', namespace: '', trustDomain: '' };
    req.headers['dapr-caller-app-id'] = id.appId;
    req.headers['dapr-caller-namespace'] = id.namespace;
    return { appId: id.appId, namespace: id.namespace, trustDomain: id.trustDomain };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, caller: Caller): Promise<void> {
    const { appId, maxBodyBytes } = this.options;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    const actorCalls = path.startsWith(INTERNAL_ACTORS) ? this.options.actorCalls?.() : undefined;
    if (actorCalls) {
      await actorCalls(req, res, await readBody(req, maxBodyBytes));
      return;
    }
    // Without an access control spec every caller is allowed: skip building the query.
    const allowed =
      this.options.acl === undefined ||
      isAllowed(this.options.acl, {
        callerAppId: caller.appId,
        callerNamespace: caller.namespace,
        ...(caller.trustDomain !== undefined ? { callerTrustDomain: caller.trustDomain } : {}),
        operation: path,
        verb: method,
      });
    if (!allowed) throw invokeErrors.denied(appId, caller.appId, path, method);
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
    const request: AppRequest = { signal: abort.signal, method, path, headers: passThroughHeaders(req.headers) };
    if (queryAt !== -1) request.query = url.slice(queryAt + 1);
    if (body) request.body = body;
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
    res.writeHead(response.status, passThroughHeaders(response.headers as Record<string, string | string[]>));
    try {
      await relayBody(response.body, res);
    } catch (err) {
      this.options.logger.debug(`response of ${appId} broke off: ${(err as Error).message}`);
      res.destroy();
    }
  }
}

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); no HTTP/1.1 method starts so. */
const H2_PREFACE_START = Buffer.from('PRI ');

/**
 * One plain-text port for HTTP/1.1 and cleartext HTTP/2: each connection goes to the server its first
 * bytes belong to.
 */
class PrefaceSplitListener {
  private readonly front: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(
    private readonly http1: http.Server,
    private readonly h2c: http2.Http2Server,
  ) {
    h2c.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    this.front = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (head.length < H2_PREFACE_START.length && H2_PREFACE_START.subarray(0, head.length).equals(head)) return;
        socket.off('data', onData);
        socket.pause();
        socket.unshift(head);
        if (head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
          this.h2c.emit('connection', socket);
        } else {
          this.http1.emit('connection', socket);
          // The HTTP/1.1 parser listens for 'data' but does not undo the pause above.
          socket.resume();
        }
      };
      socket.on('data', onData);
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.front.once('error', reject);
      this.front.listen(port, host, () => {
        this.front.off('error', reject);
        resolve((this.front.address() as net.AddressInfo).port);
      });
    });
  }

  close(graceMs = 2000): Promise<void> {
    return new Promise((resolve) => {
      this.front.close(() => resolve());
      for (const session of this.sessions) session.close();
      this.http1.closeIdleConnections();
      setTimeout(() => {
        for (const session of this.sessions) session.destroy();
        for (const socket of this.sockets) socket.destroy();
      }, graceMs).unref();
    });
  }
}
