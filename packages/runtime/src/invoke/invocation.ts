/**
 * Wires service invocation into a sidecar: the name resolver (chosen by the Configuration's
 * `nameResolution`), the caller-side forwarder for the HTTP API, the callee-side internal server with
 * access control, and this sidecar's publication in name resolution.
 */
import type { AccessControlSpec } from '../acl/access-control.js';
import type { AppChannel } from '../appchannel/app-channel.js';
import type { NameResolutionSpec } from '../config/configuration.js';
import type { Logger } from '../logging/logger.js';
import { createResolver } from '../nameresolution/create-resolver.js';
import type { NameResolver } from '../nameresolution/resolver.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import type { InvocationMetrics } from '../observability/invocation-metrics.js';
import type { Tracer } from '../observability/tracing.js';
import type { LoadedDocument } from '../resources/loader.js';
import type { SidecarOptions } from '../sidecar/options.js';
import { nameResolutionComponent } from '../sidecar/kubernetes-mode.js';
import { InvokeForwarder } from './forwarder.js';
import { HttpEndpoints } from './http-endpoints.js';
import { InvokeInternalServer } from './internal-server.js';
import type { InternalActorHandler, PeerGrpcHandler, PlainGrpcHandler } from './internal-server.js';
import type { Mtls } from '../security/mtls.js';
import { mtlsTransport } from './sidecar-transport.js';

/** What {@link startInvocation} needs. */
export interface InvocationDeps {
  options: SidecarOptions;
  acl: AccessControlSpec | undefined;
  nameResolution: NameResolutionSpec;
  httpEndpoints: readonly LoadedDocument[];
  channel(): AppChannel | undefined;
  appReady(): boolean;
  logger: Logger;
  /** Resiliency policies for app targets (caller side). */
  resiliency?: Resiliency | undefined;
  /** `dapr_runtime_service_invocation_*` recorders; absent when metrics are off. */
  metrics?: InvocationMetrics | undefined;
  /** Spans of invocation hops (both sides); absent when tracing is off. */
  tracer?: Tracer | undefined;
  /** Mutual TLS between sidecars; plain text when absent. */
  mtls?: Mtls | undefined;
  /** Takes proxied gRPC calls arriving over mTLS (set once the gRPC proxy exists). */
  grpcStream?: (() => PeerGrpcHandler | undefined) | undefined;
  /** Takes proxied gRPC calls arriving as cleartext HTTP/2 (Kubernetes mode without mTLS). */
  plainGrpcStream?: (() => PlainGrpcHandler | undefined) | undefined;
  /** Serves actor calls from other sidecars on the internal port. */
  actorCalls?: (() => InternalActorHandler | undefined) | undefined;
}

/** The running invocation machinery of one sidecar. */
export class Invocation {
  private constructor(
    readonly resolver: NameResolver,
    readonly forwarder: InvokeForwarder,
    readonly endpoints: HttpEndpoints,
    private readonly internal: InvokeInternalServer,
    readonly internalPort: number,
    /** Address the internal port is bound to (`0.0.0.0` on a cluster). */
    readonly listenHost: string,
    readonly host: string,
    private readonly self: { appId: string; namespace: string; appPort?: number | undefined },
  ) {}

  /** Starts the internal server; call {@link Invocation.publish} once the APIs listen. */
  static async start(deps: InvocationDeps): Promise<Invocation> {
    const { options, logger } = deps;
    const component = nameResolutionComponent(deps.nameResolution.component, options.mode);
    const resolver = createResolver({
      ...deps.nameResolution,
      ...(component ? { component } : {}),
      namespace: options.namespace,
      env: options.env,
    });
    // In Kubernetes other pods dial this port through the `<app-id>-dapr` Service, so it listens on
    // every interface (as daprd's internal port does); locally it stays on the API's address.
    const onCluster = options.mode === 'kubernetes' || resolver.name === 'kubernetes';
    const listenHost = onCluster ? '0.0.0.0' : (options.listenAddresses[0] ?? '127.0.0.1');
    // Other sidecars on this machine dial the loopback address when we listen on every interface.
    const host = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
    const endpoints = new HttpEndpoints(deps.httpEndpoints, options.appId);
    const internal = new InvokeInternalServer({
      appId: options.appId,
      acl: deps.acl,
      channel: deps.channel,
      appReady: deps.appReady,
      maxBodyBytes: options.maxRequestBodyBytes,
      logger: logger.child('weft.runtime.invoke'),
      metrics: deps.metrics,
      tracer: deps.tracer,
      mtls: deps.mtls,
      grpcStream: deps.grpcStream,
      actorCalls: deps.actorCalls,
      // On a cluster the gRPC API listens on loopback only, so peers send proxied gRPC calls here.
      ...(onCluster && !deps.mtls ? { plainGrpcStream: deps.plainGrpcStream } : {}),
    });
    const internalPort = await internal.listen(options.internalPort ?? 0, listenHost);
    const forwarder = new InvokeForwarder({
      appId: options.appId,
      namespace: options.namespace,
      resolver,
      endpoints,
      maxBodyBytes: options.maxRequestBodyBytes,
      sidecarAddress: host,
      logger: logger.child('weft.runtime.invoke'),
      resiliency: deps.resiliency,
      metrics: deps.metrics,
      ...(deps.mtls ? { transport: mtlsTransport(deps.mtls, options.namespace) } : {}),
      tracer: deps.tracer,
    });
    return new Invocation(resolver, forwarder, endpoints, internal, internalPort, listenHost, host, {
      appId: options.appId,
      namespace: options.namespace,
      appPort: options.appPort,
    });
  }

  /** Makes this sidecar resolvable by others. */
  async publish(httpPort: number, grpcPort: number, extra: Record<string, string> = {}): Promise<void> {
    const { appId, namespace, appPort } = this.self;
    await this.resolver.register({
      appId,
      namespace,
      host: this.host,
      internalPort: this.internalPort,
      httpPort,
      grpcPort,
      ...(appPort ? { appPort } : {}),
      pid: process.pid,
      extra,
    });
  }

  /** Withdraws the publication first (no new callers), then stops serving. */
  async close(): Promise<void> {
    await this.resolver.close().catch(() => {});
    await Promise.all([this.internal.close(), this.forwarder.close()]);
  }
}
