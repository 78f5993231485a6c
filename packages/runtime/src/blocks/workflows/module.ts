/**
 * The workflows block: the durable workflow engine, served over the durabletask
 * `TaskHubSidecarService` (gRPC) and the HTTP workflow API.
 */
import { createWorkflowEngine } from '../../workflow/create-engine.js';
import { chooseWorkflowStore } from '../../workflow/workflow-store.js';
import type { WorkflowEngine } from '../../workflow/engine.js';
import type { BlockInstance, BlockModule } from '../block-module.js';
import { workflowRoutes } from './http-routes.js';
import { registerTaskHubService } from './taskhub-service.js';

/** A running workflows block. */
export interface WorkflowsBlockInstance extends BlockInstance {
  readonly engine: WorkflowEngine;
}

/** Workflows. */
export const workflowsModule: BlockModule<WorkflowsBlockInstance> = {
  name: 'workflows',
  dependsOn: [],
  componentKinds: [],
  start: async (ctx) => {
    const { options, logger, metrics } = ctx;
    const engine = await createWorkflowEngine({
      appId: options.appId,
      dataDir: options.dataDir,
      components: ctx.components,
      settings: ctx.engineSettings,
      logger: logger.child('weft.runtime.workflow'),
      tracer: ctx.tracer,
      ...(metrics ? { observer: metrics.workflows } : {}),
    });
    ctx.metadata.setWorkflowsSource(() => ({ connectedWorkers: engine.workerCount, stuckInstances: engine.stuckCount }));
    metrics?.observeWorkflowStuckInstances(() => engine.stuckCount);
    return {
      engine,
      httpRoutes: () => workflowRoutes(engine),
      grpcServices: (server) => registerTaskHubService(server, engine, logger.child('weft.runtime.workflow')),
      // Stopped before the gRPC server closes (every block is): it ends the worker streams, which would otherwise hold it open.
      // Pure and cheap (it reads component metadata only): no need to carry the choice out of createWorkflowEngine.
      banner: () => [`  workflows: ${chooseWorkflowStore(ctx.components, options.dataDir).describe}`],
      stop: () => engine.close(),
    };
  },
};
