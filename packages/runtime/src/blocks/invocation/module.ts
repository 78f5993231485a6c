/**
 * The service invocation block: the name resolver, the caller-side forwarder (HTTP: any request with
 * `dapr-app-id` or under `/v1.0/invoke/`; gRPC `InvokeService`), the callee-side internal server, gRPC
 * proxying by `dapr-app-id`, and mutual TLS between sidecars when configured.
 */
import { parseAccessControl } from '../../acl/access-control.js';
import { nameResolutionSpec } from '../../config/configuration.js';
import { grpcInvokeHandler } from '../../invoke/grpc-invoke.js';
import { GrpcProxy } from '../../invoke/grpc-proxy.js';
import { Invocation } from '../../invoke/invocation.js';
import type { InternalActorHandler } from '../../invoke/internal-server.js';
import { MtlsMetrics } from '../../observability/mtls-metrics.js';
import { Mtls } from '../../security/mtls.js';
import { DEFAULT_NAMESPACE, DEFAULT_TRUST_DOMAIN, formatSpiffeId } from '../../security/spiffe.js';
import type { BlockContext, BlockInstance, BlockModule } from '../block-module.js';

/** A running invocation block. */
export interface InvocationBlockInstance extends BlockInstance {
  readonly invocation: Invocation;
  /** Mutual TLS between sidecars; undefined when off. */
  readonly mtls: Mtls | undefined;
  /** Lets the actors block serve actor calls that other sidecars send to the internal port. */
  serveActorCalls(handler: InternalActorHandler | undefined): void;
}

async function startMtls(ctx: BlockContext): Promise<Mtls | undefined> {
  const { options, configuration, logger, metrics } = ctx;
  if (!options.mtls) return undefined;
  const mtls = await Mtls.start(options.mtls, { appId: options.appId, namespace: options.namespace || DEFAULT_NAMESPACE }, {
    logger: logger.child('weft.runtime.security'),
    metrics: metrics ? new MtlsMetrics(metrics.registry, options.appId) : undefined,
  });
  const trustDomain = configuration.spec.accessControl?.trustDomain || DEFAULT_TRUST_DOMAIN;
  if (mtls.identity.trustDomain !== trustDomain) {
    logger.warn(`the mTLS certificate's trust domain "${mtls.identity.trustDomain}" differs from the Configuration's accessControl.trustDomain "${trustDomain}"`);
  }
  return mtls;
}

/** Service invocation. */
export const invocationModule: BlockModule<InvocationBlockInstance> = {
  name: 'invocation',
  dependsOn: [],
  componentKinds: [],
  start: async (ctx) => {
    const { options, configuration, logger, metrics } = ctx;
    const acl = parseAccessControl(configuration.file ?? '', configuration.spec.accessControl);
    const mtls = await startMtls(ctx);
    // The internal server hands peers' gRPC hops to the proxy, which needs the resolver made here.
    const proxyRef: { current?: GrpcProxy } = {};
    let actorCalls: InternalActorHandler | undefined;
    let invocation: Invocation;
    try {
      invocation = await Invocation.start({
        options,
        acl,
        nameResolution: nameResolutionSpec(configuration),
        httpEndpoints: ctx.resources.others.get('HTTPEndpoint') ?? [],
        channel: () => ctx.appChannel(),
        appReady: () => ctx.health.appAvailable(),
        logger,
        resiliency: ctx.resiliency,
        metrics: metrics?.invocation,
        tracer: ctx.tracer,
        mtls,
        grpcStream: () => proxyRef.current?.handlePeer,
        plainGrpcStream: () => proxyRef.current?.handlePlainPeer,
        actorCalls: () => actorCalls,
      });
    } catch (err) {
      mtls?.close();
      throw err;
    }
    ctx.metadata.httpEndpointNames = invocation.endpoints.names();
    const proxy = new GrpcProxy({
      appId: options.appId,
      namespace: options.namespace,
      resolver: invocation.resolver,
      // Kubernetes mode: peers take proxied gRPC calls on their internal port (the API is loopback-only).
      viaInternalPort: options.mode === 'kubernetes',
      acl,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
      app: () =>
        options.appPort && options.appProtocol === 'grpc' && ctx.health.appAvailable()
          ? { host: options.appChannelAddress, port: options.appPort }
          : undefined,
      logger: logger.child('weft.runtime.grpc'),
      mtls,
      tracer: ctx.tracer,
      resiliency: ctx.resiliency,
      ...(metrics ? { onProxiedCall: (role: 'server' | 'client', method: string, code: number, ms: number) => metrics.recordGrpcProxiedCall(role, method, code, ms) } : {}),
    });
    proxyRef.current = proxy;
    return {
      invocation,
      mtls,
      serveActorCalls: (handler) => {
        actorCalls = handler;
      },
      httpIntercept: invocation.forwarder.handle,
      grpcRawStreams: proxy.handle,
      grpcMethods: () => ({ InvokeService: grpcInvokeHandler(invocation.forwarder) as never }),
      listening: async ({ httpPort, grpcPort, metricsPort }) => {
        await invocation.publish(httpPort, grpcPort);
        // The dashboard reads each local sidecar's metrics from here.
        if (metricsPort) await invocation.resolver.update({ metricsPort: String(metricsPort), metricsAddress: options.metricsListenAddress });
      },
      banner: () => [
        `  internal  ${invocation.listenHost}:${invocation.internalPort} (sidecar to sidecar)   name resolution: ${invocation.resolver.name}${options.mode === 'kubernetes' ? `   namespace: ${options.namespace}` : ''}`,
        ...(mtls ? [`  mTLS between sidecars: ${formatSpiffeId(mtls.identity)} (certificate valid until ${mtls.certificate.validTo})`] : []),
      ],
      stop: async () => {
        await invocation.close();
        proxy.close();
        mtls?.close();
      },
    };
  },
};
