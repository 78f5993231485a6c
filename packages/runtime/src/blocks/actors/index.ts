/**
 * The actors building block: everything the sidecar wires is exported from here. {@link createActorsBlock}
 * opens the reminder storage (the Postgres of a `state.postgresql` actor state store, as for jobs and
 * workflows, else `<dataDir>/jobs.sqlite`) and builds the block over it.
 */
import type { ComponentManager } from '../../components/manager.js';
import { SqliteJobStore } from '../../jobs/job-store.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { Logger } from '../../logging/logger.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import { actorPostgresConnection } from '../../workflow/create-engine.js';
import { ActorMetrics } from './actor-metrics.js';
import { ActorsBlock } from './actors-block.js';
import type { RemoteActors } from './actor-runtime.js';

export { ActorsBlock } from './actors-block.js';
export { actorRoutes } from './http-routes.js';
export { actorGrpcMethods } from './grpc-methods.js';

/** What {@link createActorsBlock} needs. */
export interface CreateActorsBlockInput {
  appId: string;
  dataDir: string;
  components: ComponentManager;
  logger: Logger;
  /** The Configuration's preview features (`ActorStateTTL`). */
  features: Readonly<Record<string, boolean>>;
  metrics?: WeftMetrics | undefined;
  remote?: RemoteActors | undefined;
}

/** Opens the reminder store and builds the block (which closes the store when it closes). */
export async function createActorsBlock(input: CreateActorsBlockInput): Promise<ActorsBlock> {
  const pgUrl = actorPostgresConnection(input.components);
  let store: JobStore;
  if (pgUrl) {
    const { PostgresJobStore } = await import('../../jobs/postgres-job-store.js');
    store = await PostgresJobStore.open(pgUrl);
  } else {
    store = new SqliteJobStore(input.dataDir);
  }
  return new ActorsBlock({
    appId: input.appId,
    dataDir: input.dataDir,
    components: input.components,
    reminderStore: store,
    logger: input.logger,
    stateTtlEnabled: input.features['ActorStateTTL'] === true,
    metrics: input.metrics ? new ActorMetrics(input.metrics.registry, input.appId) : undefined,
    remote: input.remote,
  });
}
