/**
 * The configuration building block: get, subscribe and unsubscribe over HTTP (updates POSTed to the
 * app) and gRPC (a server stream), on the `configuration.*` components (`components/configuration/`).
 */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { ConfigurationBlock } from './configuration-block.js';
import { configurationStreamingMethods, configurationUnaryMethods } from './configuration-grpc.js';
import { configurationRoutes } from './configuration-http.js';

export { ConfigurationBlock } from './configuration-block.js';

/** A running configuration block. */
export interface ConfigurationBlockInstance extends BlockInstance {
  readonly block: ConfigurationBlock;
}

/** Configuration stores; the app channel is read when an HTTP subscription starts. */
export const configurationModule: BlockModule<ConfigurationBlockInstance> = {
  name: 'configuration',
  dependsOn: [],
  componentKinds: ['configuration'],
  start: (ctx) => {
    const logger = ctx.logger.child('weft.runtime.configuration');
    const block = new ConfigurationBlock(ctx.components, logger);
    return {
      block,
      httpRoutes: () => configurationRoutes(block, () => ctx.appChannel(), () => ctx.resiliency),
      grpcMethods: () => configurationUnaryMethods(block),
      grpcStreamingMethods: (server) => configurationStreamingMethods(server, block, logger),
      // Before the gRPC server closes: it ends the subscription streams, which would hold it open.
      stop: () => block.stop(),
    };
  },
};
