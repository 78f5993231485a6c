/**
 * The configuration building block: get, subscribe and unsubscribe over HTTP (updates POSTed to the
 * app) and gRPC (a server stream), on the `configuration.*` components (`components/configuration/`).
 */
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { ComponentManager } from '../../components/manager.js';
import type { Logger } from '../../logging/logger.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import type { BlockModule } from '../module.js';
import { ConfigurationBlock } from './configuration-block.js';
import { configurationStreamingMethods, configurationUnaryMethods } from './configuration-grpc.js';
import { configurationRoutes } from './configuration-http.js';

export { ConfigurationBlock } from './configuration-block.js';

/** The configuration block as a sidecar module; `appChannel` is read when an HTTP subscription starts. */
export function configurationModule(deps: {
  components: ComponentManager;
  logger: Logger;
  appChannel: () => AppChannel | undefined;
  /** Resiliency policies; a store's inbound policy wraps each delivery to the app. */
  resiliency?: () => Resiliency | undefined;
}): BlockModule & { block: ConfigurationBlock } {
  const block = new ConfigurationBlock(deps.components, deps.logger);
  return {
    name: 'configuration',
    block,
    httpRoutes: configurationRoutes(block, deps.appChannel, deps.resiliency),
    grpcUnary: configurationUnaryMethods(block),
    grpcStreaming: (server) => configurationStreamingMethods(server, block, deps.logger),
    stop: () => block.stop(),
  };
}
