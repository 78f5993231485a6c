/** The core block: health, metadata and shutdown (HTTP and gRPC). The metadata itself is the sidecar's. */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { coreMethods } from './grpc-methods.js';
import { coreRoutes } from './http-routes.js';

/** Health (`/v1.0/healthz`), metadata (`GetMetadata`, `SetMetadata`) and `Shutdown`. */
export const coreModule: BlockModule<BlockInstance> = {
  name: 'core',
  dependsOn: [],
  componentKinds: [],
  start: (ctx) => ({
    httpRoutes: () => coreRoutes({ appId: ctx.options.appId, health: ctx.health, metadata: ctx.metadata, shutdown: () => ctx.requestShutdown() }),
    grpcMethods: () => coreMethods({ metadata: ctx.metadata, shutdown: () => ctx.requestShutdown() }),
  }),
};
