/** The admin block: Weft's own API for the dashboard (`/v1.0-weft/admin/...`); the code lives in `admin/`. */
import { adminRoutes } from '../../admin/admin-routes.js';
import type { BlockInstance, BlockModule } from '../block-module.js';
import { pubsubModule } from '../pubsub/module.js';
import { stateModule } from '../state/module.js';
import { workflowsModule } from '../workflows/module.js';

/** State browsing, pub/sub traffic, recent logs and workflow reruns for the dashboard. */
export const adminModule: BlockModule<BlockInstance> = {
  name: 'admin',
  dependsOn: ['state', 'pubsub', 'workflows'],
  componentKinds: [],
  start: (ctx) => {
    const routes = adminRoutes({
      appId: ctx.options.appId,
      startedAt: ctx.startedAt,
      state: ctx.use(stateModule).state,
      components: ctx.components,
      traffic: ctx.use(pubsubModule).traffic,
      logs: ctx.recentLogs,
      workflows: ctx.use(workflowsModule).engine,
    });
    return { httpRoutes: () => routes };
  },
};
