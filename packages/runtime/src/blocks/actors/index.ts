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
import { SidecarPlacement } from './local-placement.js';
import { PostgresPlacement } from './postgres-placement.js';
import type { NameResolver } from '../../nameresolution/resolver.js';
import type { RetryPolicy } from '../../resiliency/retry.js';
import { mtlsTransport, plainTransport } from '../../invoke/sidecar-transport.js';
import type { Mtls } from '../../security/mtls.js';

export { ActorsBlock } from './actors-block.js';
export { actorRoutes } from './http-routes.js';
export { actorGrpcMethods } from './grpc-methods.js';
export { SidecarPlacement } from './local-placement.js';
export { reachableHost } from './postgres-placement.js';

/** What {@link createActorsBlock} needs. */
export interface CreateActorsBlockInput {
  appId: string;
  dataDir: string;
  components: ComponentManager;
  logger: Logger;
  /** The Configuration's preview features (`ActorStateTTL`). */
  features: Readonly<Record<string, boolean>>;
  metrics?: WeftMetrics | undefined;
  /** The sidecar's name resolver once invocation runs (local registry: actor placement across sidecars). */
  resolver: () => NameResolver | undefined;
  /** This sidecar's internal (sidecar-to-sidecar) port once it listens. */
  internalPort: () => number | undefined;
  /** Mutual TLS between sidecars (`--enable-mtls`): actor calls to other sidecars go over it. */
  mtls?: Mtls | undefined;
  /** This sidecar's namespace (the callee identity's, under mTLS). */
  namespace?: string | undefined;
  /** The sidecar's graceful shutdown period in ms (caps draining on shutdown). */
  shutdownDrainCapMs?: number | undefined;
  /** daprd's `DaprBuiltInActorNotFoundRetries`, from the sidecar's resiliency. */
  notFoundRetry?: RetryPolicy | undefined;
  /** The address other sidecars reach the internal port on (`host:port`), once it listens. */
  internalAddress: () => string | undefined;
}

/** Opens the reminder store and builds the block (which closes the store when it closes). */
export async function createActorsBlock(input: CreateActorsBlockInput): Promise<ActorsBlock> {
  const pgUrl = actorPostgresConnection(input.components);
  const logger = input.logger.child('weft.runtime.actors');
  let store: JobStore;
  let shared: PostgresPlacement | undefined;
  const transport = input.mtls ? mtlsTransport(input.mtls, input.namespace ?? '') : plainTransport;
  if (pgUrl) {
    const { PostgresJobStore } = await import('../../jobs/postgres-job-store.js');
    store = await PostgresJobStore.open(pgUrl);
    shared = await PostgresPlacement.open(pgUrl, { appId: input.appId, address: input.internalAddress, logger, transport });
  } else {
    store = new SqliteJobStore(input.dataDir);
  }
  const placement = new SidecarPlacement(
    input.resolver,
    () => {
      const port = input.internalPort();
      return port ? { appId: input.appId, pid: process.pid, internalPort: port } : undefined;
    },
    logger,
    shared,
    transport,
  );
  return new ActorsBlock({
    appId: input.appId,
    dataDir: input.dataDir,
    components: input.components,
    reminderStore: store,
    logger: input.logger,
    stateTtlEnabled: input.features['ActorStateTTL'] === true,
    metrics: input.metrics ? new ActorMetrics(input.metrics.registry, input.appId) : undefined,
    placement,
    notFoundRetry: input.notFoundRetry,
    shutdownDrainCapMs: input.shutdownDrainCapMs,
  });
}
