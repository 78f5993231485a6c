/**
 * The pub/sub block: publishing (HTTP, gRPC) and the subscriber, which delivers to the app once it is
 * discovered. Recent deliveries are kept for the admin API.
 */
import { PubSubTraffic } from '../../admin/pubsub-traffic.js';
import type { BlockInstance, BlockModule } from '../block-module.js';
import { pubsubMethods } from './grpc-methods.js';
import { pubsubRoutes } from './http-routes.js';
import { PubSubPublisher } from './publish.js';
import { PubSubSubscriber } from './subscriber.js';

/** A running pub/sub block. */
export interface PubSubBlockInstance extends BlockInstance {
  /** Publishing (HTTP, gRPC, dead letters). */
  readonly publisher: PubSubPublisher;
  /** Subscriptions and delivery to the app. */
  readonly subscriber: PubSubSubscriber;
  /** Recent pub/sub deliveries and dead letters (the admin API). */
  readonly traffic: PubSubTraffic;
}

/** Publish and subscribe. */
export const pubsubModule: BlockModule<PubSubBlockInstance> = {
  name: 'pubsub',
  dependsOn: [],
  componentKinds: ['pubsub'],
  start: (ctx) => {
    const { options, metrics } = ctx;
    const publisher = new PubSubPublisher(ctx.components, options.appId, () => ctx.tracer, metrics?.pubsubBulk);
    const traffic = new PubSubTraffic();
    const subscriber = new PubSubSubscriber({
      components: ctx.components,
      appId: options.appId,
      logger: ctx.logger.child('weft.runtime.pubsub'),
      policy: ctx.deliveryPolicy,
      declarative: ctx.resources.others.get('Subscription') ?? [],
      resiliency: ctx.resiliency,
      metrics,
      appAvailable: () => ctx.health.appAvailable(),
      tracer: () => ctx.tracer,
      traffic,
    });
    ctx.metadata.setSubscriptionsSource(() => subscriber.list());
    return {
      publisher,
      subscriber,
      traffic,
      httpRoutes: () => pubsubRoutes(publisher),
      grpcMethods: () => pubsubMethods(publisher),
      appDiscovered: ({ channel }) => subscriber.start(channel),
      stop: () => subscriber.stop(),
    };
  },
};
