/**
 * One Weft sidecar: loads resources, initialises components, serves the HTTP and gRPC APIs and tracks
 * readiness. The CLI and the tests start it the same way, in process, with {@link Sidecar.start}.
 */
import fs from 'node:fs/promises';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpApiServer } from '../api/http/server.js';
import { GrpcApiServer } from '../api/grpc/server.js';
import { registerDaprGrpcService } from '../api/grpc/dapr-service.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import { MetadataBlock } from '../blocks/core/metadata.js';
import type { BlockContext } from '../blocks/block-module.js';
import { BUILDING_BLOCKS } from '../blocks/registry.js';
import { stateModule } from '../blocks/state/module.js';
import { secretsModule } from '../blocks/secrets/module.js';
import { pubsubModule } from '../blocks/pubsub/module.js';
import { bindingsModule } from '../blocks/bindings/module.js';
import { jobsModule } from '../blocks/jobs/module.js';
import { workflowsModule } from '../blocks/workflows/module.js';
import { invocationModule } from '../blocks/invocation/module.js';
import type { StateBlock } from '../blocks/state/state-block.js';
import type { SecretsBlock } from '../blocks/secrets/secrets-block.js';
import type { PubSubPublisher } from '../blocks/pubsub/publish.js';
import type { PubSubSubscriber } from '../blocks/pubsub/subscriber.js';
import type { OutputBindings } from '../blocks/bindings/output.js';
import type { InputBindingsRunner } from '../blocks/bindings/input.js';
import type { JobsBlock } from '../blocks/jobs/jobs-block.js';
import { deliveryPolicyOf } from '../blocks/pubsub/retry.js';
import { resolveEngineSettings } from '../config/engine-settings.js';
import type { EngineSettings } from '../config/engine-settings.js';
import type { DeliveryPolicy } from '../blocks/pubsub/retry.js';
import { builtinRegistry } from '../components/builtin.js';
import { ComponentManager } from '../components/manager.js';
import type { ComponentRegistry } from '../components/registry.js';
import { createLogger } from '../logging/logger.js';
import type { Logger } from '../logging/logger.js';
import { loadResources } from '../resources/loader.js';
import type { LoadedResources } from '../resources/loader.js';
import type { AppChannel } from '../appchannel/app-channel.js';
import { HttpAppChannel } from '../appchannel/http-app-channel.js';
import { GrpcAppChannel } from '../appchannel/grpc-app-channel.js';
import { GrpcAppCallbacks } from '../appchannel/grpc-callbacks.js';
import type { Invocation } from '../invoke/invocation.js';
import { warmUp } from '../invoke/warm-up.js';
import { waitForAppPort } from './app-channel.js';
import { AppHealthMonitor } from './app-health.js';
import { BlockRunner, servedKinds } from './block-runner.js';
import { EMBEDDED_SOURCE, embeddedComponents } from './embedded.js';
import { HealthState } from './health.js';
import type { SidecarOptions } from './options.js';
import { ignoredConfigurationSections, loadConfiguration } from '../config/configuration.js';
import type { WeftConfiguration } from '../config/configuration.js';
import { apiAccessCheck, grpcMethodEndpoint, httpRouteVersion } from '../config/api-allowlist.js';
import { guardComponent } from '../components/guard.js';
import type { ComponentGuardDeps } from '../components/guard.js';
import { WeftMetrics } from '../observability/metrics.js';
import type { ApiError } from '../errors/api-error.js';
import { PublicHealthServer } from './public-health-server.js';
import { MetricsServer } from '../observability/metrics-server.js';
import { grpcApiLogger, httpApiLogger } from '../observability/api-logging.js';
import { Resiliency } from '../resiliency/resiliency.js';
import { Tracer } from '../observability/tracing.js';
import type { Mtls } from '../security/mtls.js';
import type { HttpRequestRecord } from '../api/http/server.js';
import type { GrpcCallRecord } from '../api/grpc/server.js';
import type { PubSubTraffic } from '../admin/pubsub-traffic.js';
import { RecentLogs } from '../admin/recent-logs.js';

/** Longest wait after readiness for a caller to be told of it before the work that follows it starts anyway. */
const AFTER_READY_FALLBACK_MS = 100;

/** Extra wiring for tests and embedders. */
export interface SidecarStartOptions {
  logger?: Logger;
  registry?: ComponentRegistry;
  /** Called when the app asks for shutdown (`POST /v1.0/shutdown`). */
  onShutdownRequested?: () => void;
  /** Throw-away data directory, removed on stop (`--fresh`). */
  fresh?: boolean;
  /** An already loaded Configuration; otherwise `options.configPath` is read. */
  configuration?: WeftConfiguration;
  /** Pub/sub delivery retries and timeout; defaults come from the engine settings (`--pubsub-*`, `WEFT_PUBSUB_*`). */
  deliveryPolicy?: DeliveryPolicy;
  /**
   * Recent log lines for the admin API. Give the same instance to `createLogger({ onLine })` when
   * passing `logger`; without `logger` the sidecar taps its own.
   */
  recentLogs?: RecentLogs;
}

/** A running sidecar. */
export class Sidecar {
  readonly health = new HealthState();
  httpPort = 0;
  grpcPort = 0;
  /** The bound metrics port; 0 when metrics are off. */
  metricsPort = 0;
  /**
   * Resiliency policies from the resources paths. Blocks being built call
   * `sidecar.resiliency.policyFor({...}).execute(fn)`; see `resiliency/resiliency.ts`.
   */
  resiliency: Resiliency | undefined;
  private metricsServer: MetricsServer | undefined;
  private publicServer: PublicHealthServer | undefined;
  /** The bound public (health) port; undefined when not served. */
  publicPort: number | undefined;
  /** Exports spans when the Configuration's `tracing` asks for it. */
  tracer: Tracer | undefined;
  /** The channel to the app; undefined without `--app-port` (or for gRPC apps until that lands). */
  appChannel: AppChannel | undefined;
  private httpServer: HttpApiServer | undefined;
  private grpcServer: GrpcApiServer | undefined;
  /** The building blocks (`blocks/registry.ts`), started in dependency order. */
  private readonly blocks: BlockRunner;
  private readonly appWait = new AbortController();
  /** Aborted on stop: ends waits for work that follows readiness (the invocation warm-up). */
  private readonly background = new AbortController();
  private appHealth: AppHealthMonitor | undefined;
  private stopping: Promise<void> | undefined;
  /** Recent log lines (the admin API); undefined when an embedder's logger is not tapped. */
  recentLogs: RecentLogs | undefined;
  /** The validated engine settings (flags, environment, Configuration); see `config/engine-settings.ts`. */
  engineSettings: EngineSettings = resolveEngineSettings({ env: {} });
  /** When {@link Sidecar.start} was called. */
  readonly startedAt = new Date();

  private constructor(
    readonly options: SidecarOptions,
    readonly logger: Logger,
    readonly components: ComponentManager,
    readonly metadata: MetadataBlock,
    private readonly freshDir: string | undefined,
    /** The resolved `--config` Configuration (defaults without one). */
    readonly configuration: WeftConfiguration,
    /** Prometheus metrics; undefined when disabled. Blocks record through its typed recorders. */
    readonly metrics: WeftMetrics | undefined,
    private readonly guards: ComponentGuardDeps,
    private readonly deliveryPolicy: DeliveryPolicy,
  ) {
    this.blocks = new BlockRunner(BUILDING_BLOCKS, logger);
  }

  /** The state block; set once started. */
  get state(): StateBlock | undefined {
    return this.blocks.get(stateModule)?.state;
  }

  /** The secrets block; set once started. */
  get secrets(): SecretsBlock | undefined {
    return this.blocks.get(secretsModule)?.secrets;
  }

  /** Publishing (HTTP, gRPC, dead letters); set once started. */
  get publisher(): PubSubPublisher | undefined {
    return this.blocks.get(pubsubModule)?.publisher;
  }

  /** Subscriptions and delivery to the app; set once started. */
  get subscriber(): PubSubSubscriber | undefined {
    return this.blocks.get(pubsubModule)?.subscriber;
  }

  /** Recent pub/sub deliveries and dead letters (the admin API); set once started. */
  get traffic(): PubSubTraffic | undefined {
    return this.blocks.get(pubsubModule)?.traffic;
  }

  /** Output bindings (`POST /v1.0/bindings/{name}`, gRPC `InvokeBinding`, input-binding replies); set once started. */
  get bindings(): OutputBindings | undefined {
    return this.blocks.get(bindingsModule)?.output;
  }

  /** Input bindings delivering to the app; set once started. */
  get inputBindings(): InputBindingsRunner | undefined {
    return this.blocks.get(bindingsModule)?.inputBindings;
  }

  /** The Jobs API (durable in `<dataDir>/jobs.sqlite`, or Postgres); set once started. */
  get jobs(): JobsBlock | undefined {
    return this.blocks.get(jobsModule)?.jobs;
  }

  /** The durable workflow engine (served over gRPC `TaskHubSidecarService` and the HTTP workflow API). */
  get workflows(): WorkflowEngine | undefined {
    return this.blocks.get(workflowsModule)?.engine;
  }

  /** Service invocation (resolver, forwarder, internal port); set once started. */
  get invocation(): Invocation | undefined {
    return this.blocks.get(invocationModule)?.invocation;
  }

  /** Mutual TLS between sidecars; undefined when off. */
  get mtls(): Mtls | undefined {
    return this.blocks.get(invocationModule)?.mtls;
  }

  /** Loads everything and starts serving; rejects (after cleaning up) if anything fails. */
  static async start(input: SidecarOptions, extra: SidecarStartOptions = {}): Promise<Sidecar> {
    const configuration = extra.configuration ?? (await loadConfiguration(input.configPath, input.env));
    // Before anything opens: an invalid setting stops start-up naming it.
    const engineSettings = resolveEngineSettings({ flags: input.engineFlags, env: input.env, configuration });
    const metrics =
      input.enableMetrics && configuration.metrics.enabled
        ? new WeftMetrics({
            appId: input.appId,
            namespace: input.namespace,
            latencyBucketsMs: configuration.metrics.latencyBucketsMs,
            http: configuration.metrics.http,
            rules: configuration.metrics.rules,
            recordErrorCodes: configuration.metrics.recordErrorCodes,
          })
        : undefined;
    const guards: ComponentGuardDeps = metrics ? { metrics } : {};
    const freshDir = extra.fresh ? await fs.mkdtemp(path.join(os.tmpdir(), 'weft-fresh-')) : undefined;
    const options: SidecarOptions = freshDir ? { ...input, dataDir: freshDir } : input;
    const recentLogs = extra.recentLogs ?? (extra.logger ? undefined : new RecentLogs());
    const logger =
      extra.logger ??
      createLogger({ level: options.logLevel, json: options.logAsJson, appId: options.appId, ...(recentLogs ? { onLine: (l: string) => recentLogs.addLine(l) } : {}) });
    const components = new ComponentManager({
      appId: options.appId,
      namespace: options.namespace,
      dataDir: options.dataDir,
      env: options.env,
      logger,
      registry: extra.registry ?? builtinRegistry(),
      decorate: (component) => guardComponent(component, guards),
      ...(metrics ? { onInit: (type: string, name: string, failure?: string) => metrics.recordComponentInit(type, name, failure) } : {}),
    });
    const metadata = new MetadataBlock(options, components);
    const sidecar = new Sidecar(
      options,
      logger,
      components,
      metadata,
      freshDir,
      configuration,
      metrics,
      guards,
      extra.deliveryPolicy ?? deliveryPolicyOf(engineSettings),
    );
    sidecar.recentLogs = recentLogs;
    sidecar.engineSettings = engineSettings;
    try {
      await sidecar.boot(extra.onShutdownRequested ?? (() => void sidecar.stop()));
    } catch (err) {
      await sidecar.stop();
      throw err;
    }
    return sidecar;
  }

  /** Where embedded data lives for this sidecar. */
  get dataDir(): string {
    return this.options.dataDir;
  }

  /** Human-readable start-up summary: app id, ports, components, data path. */
  banner(): string[] {
    const o = this.options;
    const lines = [
      `Weft sidecar ready: app id "${o.appId}"`,
      `  HTTP API  http://${o.listenAddresses[0]}:${this.httpPort}   gRPC API  ${o.listenAddresses[0]}:${this.grpcPort}`,
      ...(this.metricsPort ? [`  metrics   http://${o.metricsListenAddress}:${this.metricsPort}/metrics`] : []),
      ...(this.publicPort ? [`  health    http://${o.publicListenAddress}:${this.publicPort}/v1.0/healthz (public port)`] : []),
      ...this.blocks.instances().flatMap((b) => b.banner?.() ?? []),
      `  app channel: ${o.appPort ? `${o.appProtocol}://${o.appChannelAddress}:${o.appPort}` : 'none (no --app-port)'}`,
    ];
    for (const c of this.components.list()) lines.push(`  component ${c.name} (${c.type}/${c.version}) from ${c.source}`);
    lines.push(`  data: ${this.freshDir ? `${this.dataDir} (fresh, removed on exit)` : this.dataDir}`);
    return lines;
  }

  /** Publishes attributes of this sidecar for `weft list` (command, app pid, log paths …). */
  async updateRegistration(extra: Record<string, string>): Promise<void> {
    await this.invocation?.resolver.update(extra);
  }

  /** Stops serving and closes components; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async boot(onShutdown: () => void): Promise<void> {
    const { options, logger } = this;
    let resources: LoadedResources;
    if (options.resourcesPaths.length > 0) {
      resources = await loadResources(options.resourcesPaths);
    } else {
      resources = { components: embeddedComponents(options.dataDir), others: new Map() };
      logger.info(`no resources path given: using the ${EMBEDDED_SOURCE} components in ${options.dataDir}`);
    }
    const { configuration, metrics } = this;
    for (const note of ignoredConfigurationSections(configuration)) logger.warn(note);
    this.tracer = Tracer.fromConfiguration(configuration, options.appId, logger.child('weft.runtime.tracing'));
    const resiliency = Resiliency.fromDocuments(resources.others.get('Resiliency') ?? [], options.appId, {
      logger: logger.child('weft.runtime.resiliency'),
      ...(metrics ? { observer: metrics } : {}),
    });
    this.resiliency = resiliency;
    for (const r of resiliency.loaded) metrics?.recordResiliencyLoaded(r.name, r.namespace);
    const lastLoaded = resiliency.loaded.at(-1);
    if (lastLoaded) metrics?.setResiliencyResource(lastLoaded.name, lastLoaded.namespace);
    this.guards.resiliency = resiliency;
    await this.components.loadAll(resources.components);
    const served = servedKinds(BUILDING_BLOCKS);
    for (const c of this.components.list()) {
      if (!served.has(c.kind)) logger.warn(`component ${c.name} (${c.type}): no building block serves "${c.kind}" components yet, so nothing uses it`);
    }

    const shared: Omit<BlockContext, 'use'> = {
      options,
      logger,
      configuration,
      resources,
      components: this.components,
      metrics,
      resiliency,
      engineSettings: this.engineSettings,
      tracer: this.tracer,
      health: this.health,
      metadata: this.metadata,
      deliveryPolicy: this.deliveryPolicy,
      recentLogs: this.recentLogs,
      startedAt: this.startedAt,
      appChannel: () => this.appChannel,
      requestShutdown: onShutdown,
    };
    await this.blocks.startAll(shared);
    this.health.componentsReady = true;

    const apiAllowed = apiAccessCheck(configuration.api.allowed, configuration.api.denied);
    const routes = this.blocks.httpRoutes().filter((r) => r.public || apiAllowed({ group: r.group, version: httpRouteVersion(r.path), protocol: 'http' }));
    const apiLogging = options.enableApiLogging ?? configuration.apiLogging.enabled;
    const httpObservers: ((r: HttpRequestRecord) => void)[] = [];
    if (metrics) httpObservers.push((r) => metrics.recordHttpServerRequest(r));
    if (apiLogging) httpObservers.push(httpApiLogger(logger, configuration.apiLogging));
    const grpcObservers: ((c: GrpcCallRecord) => void)[] = [];
    if (metrics) grpcObservers.push((c) => metrics.recordGrpcServerCall({ method: c.fullMethod, ...c }));
    const onApiError = metrics?.errorCodes ? { onApiError: (err: ApiError) => metrics.recordApiError(err) } : {};
    if (apiLogging) grpcObservers.push(grpcApiLogger(logger));

    const host = options.listenAddresses[0] ?? '127.0.0.1';
    const intercept = this.blocks.httpIntercept();
    this.httpServer = new HttpApiServer({
      ...(this.tracer ? { tracer: this.tracer } : {}),
      ...(intercept ? { intercept } : {}),
      routes,
      logger: logger.child('weft.runtime.http'),
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      headersTimeoutMs: options.httpHeadersTimeoutMs,
      requestTimeoutMs: options.httpRequestTimeoutMs,
      maxHeaderBytes: options.maxHeaderBytes,
      ...(httpObservers.length > 0 ? { observer: (r: HttpRequestRecord) => httpObservers.forEach((o) => o(r)) } : {}),
      ...onApiError,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    });
    this.httpPort = await this.httpServer.listen(options.httpPort, host);

    const rawStreamHandler = this.blocks.grpcRawStreams();
    this.grpcServer = new GrpcApiServer({
      ...(rawStreamHandler ? { rawStreamHandler } : {}),
      tracer: this.tracer,
      logger: logger.child('weft.runtime.grpc'),
      maxMessageBytes: options.maxRequestBodyBytes,
      methodAllowed: (method) => apiAllowed(grpcMethodEndpoint(method)),
      ...(grpcObservers.length > 0 ? { observer: (c: GrpcCallRecord) => grpcObservers.forEach((o) => o(c)) } : {}),
      ...onApiError,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    });
    const dapr = this.blocks.daprMethods(this.grpcServer);
    registerDaprGrpcService(this.grpcServer, dapr.unary, dapr.streaming);
    for (const block of this.blocks.instances()) block.grpcServices?.(this.grpcServer);
    this.grpcPort = await this.grpcServer.listen(options.grpcPort, host);
    if (metrics && options.metricsPort >= 0) {
      this.metricsServer = new MetricsServer(metrics);
      this.metricsPort = await this.metricsServer.listen(options.metricsPort, options.metricsListenAddress);
    }
    if (options.publicPort !== undefined && options.publicPort >= 0) {
      this.publicServer = new PublicHealthServer(this.health);
      this.publicPort = await this.publicServer.listen(options.publicPort, options.publicListenAddress);
    }
    for (const block of this.blocks.instances()) await block.listening?.({ httpPort: this.httpPort, grpcPort: this.grpcPort, metricsPort: this.metricsPort });
    this.health.apiReady = true;
    this.scheduleAfterReady(host);

    if (options.appPort && (options.appProtocol === 'http' || options.appProtocol === 'https')) {
      this.appChannel = new HttpAppChannel({
        protocol: options.appProtocol,
        host: options.appChannelAddress,
        port: options.appPort,
        ...(options.appApiToken ? { appApiToken: options.appApiToken } : {}),
        ...(metrics ? { observer: (c: { method: string; path: string; status: number; durationMs: number }) => metrics.recordHttpClientRequest(c) } : {}),
      });
    }
    if (options.appPort && options.appProtocol === 'grpc') {
      this.appChannel = new GrpcAppChannel({
        host: options.appChannelAddress,
        port: options.appPort,
        maxMessageBytes: options.maxRequestBodyBytes,
        ...(options.appApiToken ? { appApiToken: options.appApiToken } : {}),
        ...(metrics ? { interceptors: [metrics.grpcClient.interceptor()] } : {}),
      });
    }
    if (options.appPort) {
      const { appChannelAddress, appPort } = options;
      // healthz turns ready only once the blocks have set up what the app needs (subscriptions).
      this.health.subscriptionsReady = false;
      waitForAppPort(appChannelAddress, appPort, this.appWait.signal).then(
        () => {
          this.health.appReady = true;
          logger.info(`application discovered on port ${appPort}`);
          this.startAppHealthChecks();
          this.appDiscovered();
        },
        () => {},
      );
    } else {
      this.health.appReady = true;
    }
  }

  /**
   * Runs what may follow readiness ({@link afterReadyReported}) once readiness has been reported to
   * someone (the first `204` of `healthz` or `healthz/outbound`), or {@link AFTER_READY_FALLBACK_MS}
   * after it when nobody asks. After, not before: loading undici and prom-client's process metrics and
   * the warm-up calls cost ~150 ms of CPU that would otherwise count as start-up time; after the
   * report rather than at once, so the check that reports it is answered before that work
   * (`setImmediate`: once the answer to that check has been written).
   */
  private scheduleAfterReady(apiHost: string): void {
    const fallback = delay(AFTER_READY_FALLBACK_MS, undefined, { signal: this.background.signal, ref: false });
    Promise.race([this.health.reported, fallback])
      .then(
        () =>
          setImmediate(() => {
            if (this.stopping) return;
            this.afterReadyReported(apiHost).catch((err: unknown) => this.logger.warn(`after readiness: ${(err as Error).message}`));
          }),
        // Aborted: the sidecar stopped first.
        () => {},
      );
  }

  /** What follows readiness (see {@link scheduleAfterReady}): process metrics, then the invocation warm-up. */
  private async afterReadyReported(apiHost: string): Promise<void> {
    this.metrics?.collectProcessMetrics();
    // Each load blocks the event loop for tens of milliseconds: a request that came in meanwhile is
    // served between them rather than after both.
    await nextTurn();
    await this.warmUp(apiHost);
  }

  /**
   * Runs the hot paths of invocation a few hundred times right after `healthz/outbound` turns ready, so
   * the first real requests do not meet cold code (see `invoke/warm-up.ts`). Skipped under mTLS, where
   * the internal port takes verified peers only.
   */
  private async warmUp(apiHost: string): Promise<void> {
    const invocation = this.invocation;
    if (!invocation || this.mtls) return;
    const result = await warmUp({
      apiHost,
      apiPort: this.httpPort,
      internalHost: invocation.host,
      internalPort: invocation.internalPort,
      apiToken: this.options.apiToken,
    });
    this.logger.debug(`warm-up: ${result.calls} calls answered, ${result.failed} failed, in ${result.ms.toFixed(1)} ms (${result.cpuMs.toFixed(1)} ms CPU)`);
  }

  /** Tells every block that the app is there (subscriptions, input bindings and job triggers start). */
  private appDiscovered(): void {
    const channel = this.appChannel;
    if (!channel || this.stopping) return;
    const { options, metrics } = this;
    // One set of gRPC callback clients to a gRPC app, shared by the blocks that call it.
    const grpcCallbacks =
      channel instanceof GrpcAppChannel
        ? new GrpcAppCallbacks({
            host: options.appChannelAddress,
            port: options.appPort ?? 0,
            maxMessageBytes: options.maxRequestBodyBytes,
            ...(options.appApiToken ? { appApiToken: options.appApiToken } : {}),
            ...(metrics ? { interceptors: [metrics.grpcClient.interceptor()] } : {}),
          })
        : undefined;
    const setUp = this.blocks.instances().map((block) => block.appDiscovered?.({ channel, grpcCallbacks }));
    void Promise.allSettled(setUp).then(() => (this.health.subscriptionsReady = true));
  }

  private startAppHealthChecks(): void {
    const settings = this.options.appHealthCheck;
    const channel = this.appChannel;
    if (!settings || !channel || this.stopping) return;
    this.health.appHealthy = false;
    const probe =
      channel instanceof GrpcAppChannel
        ? (timeoutMs: number) => channel.probe(timeoutMs)
        : async (timeoutMs: number) => {
            const res = await channel.call({ method: 'GET', path: settings.path, signal: AbortSignal.timeout(timeoutMs) });
            return res.status >= 200 && res.status < 300;
          };
    this.appHealth = new AppHealthMonitor(probe, settings, (healthy) => {
      this.health.appHealthy = healthy;
      if (healthy) this.logger.info('app is healthy; calls to the app are enabled');
      else this.logger.warn(`app is unhealthy after ${settings.threshold} failed probes; calls to the app are stopped`);
    });
    this.appHealth.start();
  }

  private async shutdown(): Promise<void> {
    this.appHealth?.stop();
    this.appWait.abort();
    this.background.abort();
    this.health.apiReady = false;
    // Every block stops before the servers close: the workflow block ends its worker streams, which
    // would otherwise hold the gRPC server open.
    await this.blocks.stopAll();
    await Promise.all([this.httpServer?.close(), this.grpcServer?.close(), this.appChannel?.close(), this.metricsServer?.close(), this.publicServer?.close()]);
    await this.components.closeAll();
    await this.tracer?.shutdown();
    if (this.freshDir) await fs.rm(this.freshDir, { recursive: true, force: true });
  }
}
