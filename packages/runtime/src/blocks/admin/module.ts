/** The admin block: Weft's own API for the dashboard (`/v1.0-weft/admin/...`); the code lives in `admin/`. */
import { adminRoutes } from '../../admin/admin-routes.js';
import { resourcesView } from '../../admin/resources-view.js';
import type { BlockInstance, BlockModule } from '../block-module.js';
import { pubsubModule } from '../pubsub/module.js';
import { stateModule } from '../state/module.js';
import { workflowsModule } from '../workflows/module.js';

/** State browsing, pub/sub traffic, recent logs, workflow counts, health and reruns, and the resources in effect, for the dashboard. */
export const adminModule: BlockModule<BlockInstance> = {
  name: 'admin',
  dependsOn: ['state', 'pubsub', 'workflows'],
  componentKinds: [],
  start: (ctx) => {
    const pubsub = ctx.use(pubsubModule);
    const routes = adminRoutes({
      appId: ctx.options.appId,
      startedAt: ctx.startedAt,
      state: ctx.use(stateModule).state,
      components: ctx.components,
      traffic: pubsub.traffic,
      logs: ctx.recentLogs,
      workflows: ctx.use(workflowsModule).engine,
      resources: () =>
        resourcesView({
          appId: ctx.options.appId,
          configuration: ctx.configuration,
          resiliencyDocs: ctx.resources.others.get('Resiliency') ?? [],
          resiliencyLoaded: ctx.resiliency.loaded,
          subscriptionDocs: ctx.resources.others.get('Subscription') ?? [],
          subscriptions: pubsub.subscriber.list(),
        }),
    });
    return { httpRoutes: () => routes };
  },
};
