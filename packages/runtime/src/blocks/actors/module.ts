/**
 * The actors block: the actor API (HTTP and gRPC), the app side (its `/dapr/config`, turn-based calls,
 * timers, reminders) and placement without a placement service. It uses the invocation block: actor
 * calls between sidecars go over its internal port, and placement reads its name resolver.
 */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { invocationModule } from '../invocation/module.js';
import type { ActorsBlock } from './actors-block.js';
import { actorGrpcMethods } from './grpc-methods.js';
import { actorRoutes } from './http-routes.js';
import { createActorsBlock } from './index.js';
import { reachableHost } from './postgres-placement.js';

/** A running actors block. */
export interface ActorsBlockInstance extends BlockInstance {
  readonly actors: ActorsBlock;
}

/** Virtual actors. */
export const actorsModule: BlockModule<ActorsBlockInstance> = {
  name: 'actors',
  dependsOn: ['invocation'],
  componentKinds: [],
  start: async (ctx) => {
    const { options } = ctx;
    const invocation = ctx.use(invocationModule);
    const { resolver, listenHost, host } = invocation.invocation;
    const actors = await createActorsBlock({
      appId: options.appId,
      dataDir: options.dataDir,
      components: ctx.components,
      logger: ctx.logger,
      features: ctx.configuration.features,
      metrics: ctx.metrics,
      resolver: () => resolver,
      internalPort: () => invocation.invocation.internalPort,
      mtls: invocation.mtls,
      shutdownDrainCapMs: options.gracefulShutdownSeconds * 1000,
      namespace: options.namespace,
      notFoundRetry: ctx.resiliency.builtInPolicy('DaprBuiltInActorNotFoundRetries').retryPolicy,
      internalAddress: () => `${reachableHost(listenHost, host, options.env)}:${invocation.invocation.internalPort}`,
    });
    invocation.serveActorCalls(actors.internalCalls);
    // Without an app there is no configuration to wait for: the runtime runs, hosting nothing.
    if (!options.appPort) actors.runtime.hostNothing();
    ctx.metadata.setActorsSource(
      () => actors.activeActors(),
      () => actors.runtimeStatus(),
    );
    return {
      actors,
      httpRoutes: () => actorRoutes(actors),
      grpcMethods: () => actorGrpcMethods(actors),
      // Reads the app's actor configuration; readiness does not wait for it (as before).
      appDiscovered: ({ channel }) => void actors.start(channel),
      stop: async () => {
        invocation.serveActorCalls(undefined);
        await actors.close();
      },
    };
  },
};
