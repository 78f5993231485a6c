/**
 * The sidecar's event sources that call into the app besides pub/sub: input bindings and job
 * triggers. Built once components are loaded; started when the app is discovered, over the app's
 * protocol (HTTP routes, or the gRPC `AppCallback`/`AppCallbackAlpha` methods).
 */
import type { AppChannel } from '../appchannel/app-channel.js';
import { GrpcAppChannel } from '../appchannel/grpc-app-channel.js';
import { GrpcAppCallbacks } from '../appchannel/grpc-callbacks.js';
import { httpBindingTransport } from '../blocks/bindings/app-transport.js';
import { InputBindingsRunner } from '../blocks/bindings/input.js';
import type { OutputBindings } from '../blocks/bindings/output.js';
import { JobsBlock } from '../blocks/jobs.js';
import type { StateBlock } from '../blocks/state.js';
import type { ComponentManager } from '../components/manager.js';
import { SqliteJobStore } from '../jobs/job-store.js';
import type { JobStore } from '../jobs/job-store.js';
import { JobScheduler, httpJobTarget } from '../jobs/scheduler.js';
import type { JobTarget } from '../jobs/scheduler.js';
import type { Logger } from '../logging/logger.js';
import type { WeftMetrics } from '../observability/metrics.js';
import type { Tracer } from '../observability/tracing.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import { actorPostgresConnection } from '../workflow/create-engine.js';
import type { SidecarOptions } from './options.js';

/** What the event sources need from the sidecar. */
export interface AppEventsDeps {
  options: SidecarOptions;
  components: ComponentManager;
  output: OutputBindings;
  state: StateBlock;
  logger: Logger;
  resiliency: () => Resiliency | undefined;
  metrics?: WeftMetrics;
  /** Read per event, for delivery spans. */
  tracer?: () => Tracer | undefined;
  /** False while the app is undiscovered or unhealthy: job triggers then wait. */
  appAvailable: () => boolean;
}

/** Input bindings and the job scheduler of one sidecar. */
export class AppEvents {
  readonly inputBindings: InputBindingsRunner;
  readonly jobs: JobsBlock;
  private readonly scheduler: JobScheduler;
  private target: JobTarget | undefined;
  private grpcCallbacks: GrpcAppCallbacks | undefined;

  /**
   * Opens the job store (Postgres when the actor state store is a `state.postgresql` component, as
   * for workflows; else `<dataDir>/jobs.sqlite`) and builds the event sources over it.
   */
  static async create(deps: AppEventsDeps): Promise<AppEvents> {
    const pgUrl = actorPostgresConnection(deps.components);
    if (pgUrl) {
      const { PostgresJobStore } = await import('../jobs/postgres-job-store.js');
      deps.logger.info('jobs: PostgreSQL store (the actor state store)');
      return new AppEvents(deps, await PostgresJobStore.open(pgUrl));
    }
    return new AppEvents(deps, new SqliteJobStore(deps.options.dataDir));
  }

  private constructor(
    private readonly deps: AppEventsDeps,
    private readonly store: JobStore,
  ) {
    const { options, logger } = deps;
    this.inputBindings = new InputBindingsRunner({
      components: deps.components,
      output: deps.output,
      state: deps.state,
      logger: logger.child('weft.runtime.bindings'),
      resiliency: deps.resiliency,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.tracer ? { tracer: deps.tracer } : {}),
    });
    this.scheduler = new JobScheduler({
      appId: options.appId,
      store,
      logger: logger.child('weft.runtime.jobs'),
      metrics: deps.metrics,
      app: () => (deps.appAvailable() ? this.target : undefined),
    });
    this.jobs = new JobsBlock(this.scheduler, options.appId, options.namespace);
  }

  /** Starts input bindings and job triggers towards the discovered app. */
  start(channel: AppChannel): void {
    const { options } = this.deps;
    if (channel instanceof GrpcAppChannel) {
      const callbacks = new GrpcAppCallbacks({
        host: options.appChannelAddress,
        port: options.appPort ?? 0,
        maxMessageBytes: options.maxRequestBodyBytes,
        ...(options.appApiToken ? { appApiToken: options.appApiToken } : {}),
        ...(this.deps.metrics ? { interceptors: [this.deps.metrics.grpcClient.interceptor()] } : {}),
      });
      this.grpcCallbacks = callbacks;
      this.target = { trigger: (name, data) => callbacks.triggerJob(name, data) };
    } else {
      this.target = httpJobTarget(channel);
    }
    void this.inputBindings.start(this.grpcCallbacks ?? httpBindingTransport(channel));
    this.scheduler.start();
  }

  /** Stops triggering jobs and releases the app callbacks and the job store. */
  async close(): Promise<void> {
    await this.scheduler.close();
    await this.inputBindings.stop();
    await this.store.close();
  }
}
