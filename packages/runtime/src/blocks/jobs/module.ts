/**
 * The jobs block: the Jobs API (HTTP `v1.0-alpha1/jobs`, gRPC `*JobAlpha1`) and the scheduler that
 * triggers due jobs on the app once it is discovered. Jobs live in Postgres when the actor state store
 * is a `state.postgresql` component (as workflows do), else in `<dataDir>/jobs.sqlite`.
 */
import { SqliteJobStore } from '../../jobs/job-store.js';
import type { JobStore } from '../../jobs/job-store.js';
import { JobScheduler, httpJobTarget } from '../../jobs/scheduler.js';
import type { JobTarget } from '../../jobs/scheduler.js';
import { actorPostgresConnection } from '../../workflow/create-engine.js';
import type { BlockContext, BlockInstance, BlockModule } from '../block-module.js';
import { jobMethods } from './grpc-methods.js';
import { jobsRoutes } from './http-routes.js';
import { JobsBlock } from './jobs-block.js';

/** A running jobs block. */
export interface JobsBlockInstance extends BlockInstance {
  readonly jobs: JobsBlock;
}

async function openStore(ctx: BlockContext): Promise<JobStore> {
  const pgUrl = actorPostgresConnection(ctx.components);
  if (pgUrl) {
    const { PostgresJobStore } = await import('../../jobs/postgres-job-store.js');
    ctx.logger.info('jobs: PostgreSQL store (the actor state store)');
    return PostgresJobStore.open(pgUrl);
  }
  return new SqliteJobStore(ctx.options.dataDir);
}

/** Scheduled jobs. */
export const jobsModule: BlockModule<JobsBlockInstance> = {
  name: 'jobs',
  dependsOn: [],
  componentKinds: [],
  start: async (ctx) => {
    const { options, logger } = ctx;
    const store = await openStore(ctx);
    let target: JobTarget | undefined;
    const scheduler = new JobScheduler({
      appId: options.appId,
      store,
      logger: logger.child('weft.runtime.jobs'),
      metrics: ctx.metrics,
      app: () => (ctx.health.appAvailable() ? target : undefined),
    });
    const jobs = new JobsBlock(scheduler, options.appId, options.namespace);
    return {
      jobs,
      httpRoutes: () => jobsRoutes(jobs),
      grpcMethods: () => jobMethods(jobs),
      appDiscovered: ({ channel, grpcCallbacks }) => {
        target = grpcCallbacks ? { trigger: (name, data) => grpcCallbacks.triggerJob(name, data) } : httpJobTarget(channel);
        scheduler.start();
      },
      stop: async () => {
        await scheduler.close();
        await store.close();
      },
    };
  },
};
