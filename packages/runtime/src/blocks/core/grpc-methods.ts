/** `GetMetadata`, `SetMetadata` and `Shutdown` of the Dapr gRPC service. */
import type { DaprGrpcMethods } from '../../api/grpc/dapr-service.js';
import type { MetadataBlock } from './metadata.js';

type StringMap = Record<string, string>;

/** What the core RPCs need. */
export interface CoreMethodDeps {
  metadata: MetadataBlock;
  /** Starts a graceful shutdown after the reply is sent. */
  shutdown(): void;
}

/** The metadata and shutdown RPCs. */
export function coreMethods(deps: CoreMethodDeps): DaprGrpcMethods {
  const { metadata } = deps;
  const empty = {};
  return {
    GetMetadata: async () => {
      const m = metadata.get();
      return {
        id: m.id,
        runtime_version: m.runtimeVersion,
        enabled_features: m.enabledFeatures,
        active_actors_count: m.actors,
        ...(m.actorRuntime
          ? {
              actor_runtime: {
                runtime_status: m.actorRuntime.runtimeStatus,
                active_actors: m.actorRuntime.activeActors ?? [],
                host_ready: m.actorRuntime.hostReady,
                placement: m.actorRuntime.placement ?? '',
              },
            }
          : {}),
        registered_components: m.components,
        extended_metadata: m.extended,
        subscriptions: (m.subscriptions as { pubsubname: string; topic: string; metadata: StringMap; rules: unknown[]; deadLetterTopic: string; type: string }[]).map((sub) => ({
          pubsub_name: sub.pubsubname,
          topic: sub.topic,
          metadata: sub.metadata,
          rules: { rules: sub.rules },
          dead_letter_topic: sub.deadLetterTopic,
          type: sub.type,
        })),
        http_endpoints: m.httpEndpoints,
        // Dapr's proto carries the worker count only; the stuck count is HTTP-only.
        ...(m.workflows ? { workflows: { connected_workers: m.workflows.connectedWorkers } } : {}),
        app_connection_properties: {
          port: m.appConnectionProperties.port ?? 0,
          protocol: m.appConnectionProperties.protocol,
          channel_address: m.appConnectionProperties.channelAddress,
        },
      };
    },
    SetMetadata: async (req: { key: string; value: string }) => {
      metadata.set(req.key, req.value);
      return empty;
    },
    Shutdown: async () => {
      setImmediate(() => deps.shutdown());
      return empty;
    },
  } as DaprGrpcMethods;
}
