/**
 * The shape of a building block: one module per block declares what the block serves (HTTP routes,
 * its part of the Dapr gRPC service, other gRPC services), the component kinds it reads and how it
 * starts and stops. The sidecar composes the modules listed in `blocks/registry.ts`; it knows no block
 * by name (STYLE.md #17).
 *
 * ## Adding a building block
 *
 * 1. Make a folder `blocks/<name>/` with the transport-neutral core (a class doing the work over the
 *    components), `http-routes.ts` (a function returning {@link HttpRoute}s), `grpc-methods.ts` (a
 *    function returning the block's {@link DaprGrpcMethods}, keyed by the RPC name in
 *    `dapr.proto.runtime.v1.Dapr`; the proto already declares every RPC) and `module.ts`. Error
 *    factories stay in the one catalog: `errors/<name>-errors.ts`, exported from `errors/index.ts`
 *    (STYLE.md #6).
 * 2. In `module.ts`, export a {@link BlockModule}: `name`, `dependsOn` (names of the blocks whose
 *    instances it uses through {@link BlockContext.use}), `componentKinds` (the component kinds it
 *    serves), and `start`, which builds the block from the {@link BlockContext} and returns its
 *    {@link BlockInstance}.
 * 3. Add the module to `BUILDING_BLOCKS` in `blocks/registry.ts` (one line). Drivers for a new
 *    component kind register in `components/builtin.ts` as before (the kind's contract lives in
 *    `components/<kind>/`, and metadata fields the block itself reads go into `BLOCK_FIELDS` in
 *    `components/manager.ts`).
 *
 * HTTP routes name their API `group` (`lock`, `configuration` …); gRPC methods get theirs from
 * `GRPC_GROUPS` in `config/api-allowlist.ts`, which already maps every Dapr RPC.
 *
 * @example
 * ```ts
 * // blocks/lock/module.ts
 * export const lockModule: BlockModule<LockBlockInstance> = {
 *   name: 'lock',
 *   dependsOn: [],
 *   componentKinds: ['lock'],
 *   start: (ctx) => {
 *     const locks = new LockBlock(ctx.components, ctx.options.appId);
 *     return { locks, httpRoutes: () => lockRoutes(locks), grpcMethods: () => lockMethods(locks), stop: () => locks.close() };
 *   },
 * };
 * ```
 *
 * Start order is the registry's order, moved only where a dependency demands it (a block starts after
 * every block it depends on); stop order is the exact reverse, so a block is stopped before anything it
 * uses. HTTP routes are served in start order and filtered by the Configuration's API allow-list (by
 * `group` and version) like every other route; gRPC methods are checked by name against the same list.
 * Two blocks must not provide the same gRPC method: the sidecar refuses to start.
 */
import type * as grpc from '@grpc/grpc-js';
import type { FallbackHandler } from '../api/http/server.js';
import type { HttpRoute } from '../api/http/types.js';
import type { DaprGrpcMethods } from '../api/grpc/dapr-service.js';
import type { RawStreamHandler } from '../api/grpc/raw-streams.js';
import type { GrpcApiServer } from '../api/grpc/server.js';
import type { AppChannel } from '../appchannel/app-channel.js';
import type { GrpcAppCallbacks } from '../appchannel/grpc-callbacks.js';
import type { ComponentManager } from '../components/manager.js';
import type { ComponentKind } from '../components/registry.js';
import type { WeftConfiguration } from '../config/configuration.js';
import type { Logger } from '../logging/logger.js';
import type { WeftMetrics } from '../observability/metrics.js';
import type { Tracer } from '../observability/tracing.js';
import type { LoadedResources } from '../resources/loader.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import type { HealthState } from '../sidecar/health.js';
import type { SidecarOptions } from '../sidecar/options.js';
import type { RecentLogs } from '../admin/recent-logs.js';
import type { DeliveryPolicy } from './pubsub/retry.js';
import type { EngineSettings } from '../config/engine-settings.js';
import type { MetadataBlock } from './core/metadata.js';

export type { DaprGrpcMethods } from '../api/grpc/dapr-service.js';

/** What every block may use: the sidecar's shared services, ready before any block starts. */
export interface BlockContext {
  readonly options: SidecarOptions;
  /** The sidecar's logger; blocks log through a `child('weft.runtime.<block>')`. */
  readonly logger: Logger;
  /** The resolved `--config` Configuration (defaults without one). */
  readonly configuration: WeftConfiguration;
  /** Resources other than components (`Subscription`, `HTTPEndpoint` … by kind). */
  readonly resources: LoadedResources;
  /** Every loaded component; blocks look theirs up by kind and name. */
  readonly components: ComponentManager;
  /** Prometheus metrics; undefined when disabled. */
  readonly metrics: WeftMetrics | undefined;
  readonly resiliency: Resiliency;
  /** Exports spans when the Configuration asks for it. */
  readonly tracer: Tracer | undefined;
  /** Readiness flags; `appAvailable()` says whether calls to the app may be sent now. */
  readonly health: HealthState;
  /** The metadata API's state; blocks register what they list there (subscriptions, workflows …). */
  readonly metadata: MetadataBlock;
  /** Pub/sub delivery retries and timeout. */
  readonly deliveryPolicy: DeliveryPolicy;
  /** The validated engine settings (flags, environment, Configuration; `config/engine-settings.ts`). */
  readonly engineSettings: EngineSettings;
  /** Recent log lines (the admin API); undefined when an embedder's logger is not tapped. */
  readonly recentLogs: RecentLogs | undefined;
  /** When the sidecar was started. */
  readonly startedAt: Date;
  /** The channel to the app; undefined until configured (no `--app-port`: always). */
  appChannel(): AppChannel | undefined;
  /** Starts a graceful shutdown of the sidecar (the shutdown API). */
  requestShutdown(): void;
  /**
   * The running instance of another block. Only blocks named in `dependsOn` may be used (they are
   * started first and stopped after); anything else throws, as a programming error.
   */
  use<I extends BlockInstance>(module: BlockModule<I>): I;
}

/** The app, once its port answers. */
export interface DiscoveredApp {
  channel: AppChannel;
  /** The app's gRPC callback services, when the app speaks gRPC (shared by every block). */
  grpcCallbacks: GrpcAppCallbacks | undefined;
}

/** Where the API servers listen, once they do. */
export interface ListeningPorts {
  httpPort: number;
  grpcPort: number;
  /** 0 when metrics are off. */
  metricsPort: number;
}

/** A started block: what it serves and how it stops. Every member is optional. */
export interface BlockInstance {
  /** Its HTTP routes. */
  httpRoutes?(): readonly HttpRoute[];
  /** Its unary part of `dapr.proto.runtime.v1.Dapr` (registered once, with every block's methods). */
  grpcMethods?(): DaprGrpcMethods;
  /**
   * Its streaming RPCs of `dapr.proto.runtime.v1.Dapr` (`SubscribeConfiguration`, `EncryptAlpha1` …),
   * registered as they are: each checks the token itself with `server.authorized(call)` and the API
   * allow-list, as `GetWorkItems` of the workflow block does.
   */
  grpcStreamingMethods?(server: GrpcApiServer): grpc.UntypedServiceImplementation;
  /** Registers other gRPC services on the API port (the durabletask `TaskHubSidecarService`). */
  grpcServices?(server: GrpcApiServer): void;
  /** Sees every HTTP request that passed the token check, before routing (service invocation). */
  httpIntercept?: FallbackHandler;
  /** Sees every raw gRPC stream before grpc-js routes it (gRPC proxying). */
  grpcRawStreams?: RawStreamHandler;
  /** Called once all API servers listen, before the sidecar reports its API ready. */
  listening?(ports: ListeningPorts): Promise<void> | void;
  /**
   * Called when the app is discovered (its port answered); not called while the sidecar stops. What it
   * returns, the sidecar waits for before `healthz` reports ready (pub/sub: every subscription
   * established at its broker, as daprd does, so an event published right after readiness is not lost).
   */
  appDiscovered?(app: DiscoveredApp): Promise<void> | void;
  /** Lines for the start-up banner. */
  banner?(): string[];
  /** Releases what the block holds; called once, in reverse start order, before the servers close. */
  stop?(): Promise<void> | void;
}

/** One building block. See the file comment for how to add one. */
export interface BlockModule<I extends BlockInstance = BlockInstance> {
  /** Unique, kebab-case: `state`, `pubsub`, `workflows` … */
  readonly name: string;
  /** Names of the blocks this one uses (through {@link BlockContext.use}); they start first. */
  readonly dependsOn: readonly string[];
  /**
   * The component kinds this block serves (`state`, `pubsub` …). A loaded component of a kind that no
   * registered block serves is reported at start-up: nothing would ever call it.
   */
  readonly componentKinds: readonly ComponentKind[];
  /** Builds the block. A rejection stops the sidecar's start-up (blocks started so far are stopped). */
  start(ctx: BlockContext): Promise<I> | I;
}
