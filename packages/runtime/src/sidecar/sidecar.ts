/**
 * One Weft sidecar: loads resources, initialises components, serves the HTTP and gRPC APIs and tracks
 * readiness. The CLI and the tests start it the same way, in process, with {@link Sidecar.start}.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpApiServer } from '../api/http/server.js';
import { coreRoutes } from '../api/http/core-routes.js';
import { stateRoutes } from '../api/http/state-routes.js';
import { secretsRoutes } from '../api/http/secrets-routes.js';
import { workflowRoutes } from '../api/http/workflow-routes.js';
import { pubsubRoutes } from '../api/http/pubsub-routes.js';
import { bindingsRoutes } from '../api/http/bindings-routes.js';
import { OutputBindings } from '../blocks/bindings/output.js';
import type { InputBindingsRunner } from '../blocks/bindings/input.js';
import { jobsRoutes } from '../api/http/jobs-routes.js';
import type { JobsBlock } from '../blocks/jobs.js';
import { AppEvents } from './app-events.js';
import type { HttpRoute } from '../api/http/types.js';
import { GrpcApiServer } from '../api/grpc/server.js';
import { registerDaprGrpcService } from '../api/grpc/dapr-service.js';
import { registerTaskHubService } from '../api/grpc/taskhub-service.js';
import { createWorkflowEngine } from '../workflow/create-engine.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import { MetadataBlock } from '../blocks/metadata.js';
import { SecretsBlock } from '../blocks/secrets.js';
import { StateBlock } from '../blocks/state.js';
import { PubSubPublisher } from '../blocks/pubsub/publish.js';
import { PubSubSubscriber } from '../blocks/pubsub/subscriber.js';
import { deliveryPolicyFromEnv } from '../blocks/pubsub/retry.js';
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
import { parseAccessControl } from '../acl/access-control.js';
import { Invocation } from '../invoke/invocation.js';
import { grpcInvokeHandler } from '../invoke/grpc-invoke.js';
import { GrpcProxy } from '../invoke/grpc-proxy.js';
import { waitForAppPort } from './app-channel.js';
import { AppHealthMonitor } from './app-health.js';
import { EMBEDDED_SOURCE, embeddedComponents } from './embedded.js';
import { HealthState } from './health.js';
import type { SidecarOptions } from './options.js';
import { ignoredConfigurationSections, loadConfiguration, nameResolutionSpec } from '../config/configuration.js';
import type { WeftConfiguration } from '../config/configuration.js';
import { secretScopesPolicy } from '../config/secret-scopes.js';
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
import { MtlsMetrics } from '../observability/mtls-metrics.js';
import { Mtls } from '../security/mtls.js';
import { DEFAULT_NAMESPACE, DEFAULT_TRUST_DOMAIN, formatSpiffeId } from '../security/spiffe.js';
import type { HttpRequestRecord } from '../api/http/server.js';
import type { GrpcCallRecord } from '../api/grpc/server.js';
import { resourcesView } from '../admin/resources-view.js';
import { adminRoutes } from '../admin/admin-routes.js';
import { PubSubTraffic } from '../admin/pubsub-traffic.js';
import { RecentLogs } from '../admin/recent-logs.js';

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
  /** Pub/sub delivery retries and timeout; defaults come from `WEFT_PUBSUB_*` in the options' env. */
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
  /** The durable workflow engine (served over gRPC `TaskHubSidecarService` and the HTTP workflow API). */
  workflows: WorkflowEngine | undefined;
  /** Service invocation (resolver, forwarder, internal port); set once started. */
  invocation: Invocation | undefined;
  private httpServer: HttpApiServer | undefined;
  private grpcServer: GrpcApiServer | undefined;
  /** Publishing (HTTP, gRPC, dead letters). */
  readonly publisher: PubSubPublisher;
  /** Subscriptions and delivery to the app; set once resources are loaded. */
  subscriber: PubSubSubscriber | undefined;
  /** Output bindings (`POST /v1.0/bindings/{name}`, gRPC `InvokeBinding`, input-binding replies). */
  readonly bindings: OutputBindings;
  /** Input bindings delivering to the app; set once resources are loaded. */
  inputBindings: InputBindingsRunner | undefined;
  /** The Jobs API (durable in `<dataDir>/jobs.sqlite`); set once resources are loaded. */
  jobs: JobsBlock | undefined;
  private appEvents: AppEvents | undefined;
  private readonly appWait = new AbortController();
  private appHealth: AppHealthMonitor | undefined;
  private grpcProxy: GrpcProxy | undefined;
  /** Mutual TLS between sidecars; undefined when off. */
  mtls: Mtls | undefined;
  private stopping: Promise<void> | undefined;
  /** Recent pub/sub deliveries and dead letters (the admin API). */
  readonly traffic = new PubSubTraffic();
  /** Recent log lines (the admin API); undefined when an embedder's logger is not tapped. */
  recentLogs: RecentLogs | undefined;
  /** When {@link Sidecar.start} was called. */
  readonly startedAt = new Date();

  private constructor(
    readonly options: SidecarOptions,
    readonly logger: Logger,
    readonly components: ComponentManager,
    readonly metadata: MetadataBlock,
    readonly state: StateBlock,
    readonly secrets: SecretsBlock,
    private readonly freshDir: string | undefined,
    /** The resolved `--config` Configuration (defaults without one). */
    readonly configuration: WeftConfiguration,
    /** Prometheus metrics; undefined when disabled. Blocks record through its typed recorders. */
    readonly metrics: WeftMetrics | undefined,
    private readonly guards: ComponentGuardDeps,
    private readonly deliveryPolicy: DeliveryPolicy,
  ) {
    this.publisher = new PubSubPublisher(components, options.appId, () => this.tracer, metrics?.pubsubBulk);
    this.bindings = new OutputBindings({ components, resiliency: () => this.resiliency, tracer: () => this.tracer, ...(metrics ? { metrics } : {}) });
    metadata.setSubscriptionsSource(() => this.subscriber?.list() ?? []);
  }

  /** Loads everything and starts serving; rejects (after cleaning up) if anything fails. */
  static async start(input: SidecarOptions, extra: SidecarStartOptions = {}): Promise<Sidecar> {
    const configuration = extra.configuration ?? (await loadConfiguration(input.configPath, input.env));
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
      new StateBlock(components, options.appId, options.namespace),
      new SecretsBlock(components, secretScopesPolicy(configuration.secretScopes)),
      freshDir,
      configuration,
      metrics,
      guards,
      extra.deliveryPolicy ?? deliveryPolicyFromEnv(options.env),
    );
    sidecar.recentLogs = recentLogs;
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
      ...(this.invocation ? [`  internal  ${this.invocation.listenHost}:${this.invocation.internalPort} (sidecar to sidecar)   name resolution: ${this.invocation.resolver.name}${o.mode === 'kubernetes' ? `   namespace: ${o.namespace}` : ''}`] : []),
      ...(this.mtls ? [`  mTLS between sidecars: ${formatSpiffeId(this.mtls.identity)} (certificate valid until ${this.mtls.certificate.validTo})`] : []),
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
    this.resiliency = Resiliency.fromDocuments(resources.others.get('Resiliency') ?? [], options.appId, {
      logger: logger.child('weft.runtime.resiliency'),
      ...(metrics ? { observer: metrics } : {}),
    });
    for (const r of this.resiliency.loaded) metrics?.recordResiliencyLoaded(r.name, r.namespace);
    const lastLoaded = this.resiliency.loaded.at(-1);
    if (lastLoaded) metrics?.setResiliencyResource(lastLoaded.name, lastLoaded.namespace);
    this.guards.resiliency = this.resiliency;
    await this.components.loadAll(resources.components);
    this.subscriber = new PubSubSubscriber({
      components: this.components,
      appId: options.appId,
      logger: logger.child('weft.runtime.pubsub'),
      policy: this.deliveryPolicy,
      declarative: resources.others.get('Subscription') ?? [],
      resiliency: this.resiliency,
      metrics,
      appAvailable: () => this.health.appAvailable(),
      tracer: () => this.tracer,
      traffic: this.traffic,
    });
    this.appEvents = await AppEvents.create({
      options,
      components: this.components,
      output: this.bindings,
      state: this.state,
      logger,
      resiliency: () => this.resiliency,
      appAvailable: () => this.health.appAvailable(),
      ...(metrics ? { metrics } : {}),
      tracer: () => this.tracer,
    });
    this.inputBindings = this.appEvents.inputBindings;
    this.jobs = this.appEvents.jobs;
    this.health.componentsReady = true;
    this.workflows = await createWorkflowEngine({
      appId: options.appId,
      dataDir: options.dataDir,
      components: this.components,
      env: options.env,
      logger: logger.child('weft.runtime.workflow'),
      tracer: this.tracer,
      ...(metrics ? { observer: metrics.workflows } : {}),
    });
    const engine = this.workflows;
    this.metadata.setWorkflowsSource(() => ({ connectedWorkers: engine.workerCount, stuckInstances: engine.stuckCount }));
    metrics?.observeWorkflowStuckInstances(() => engine.stuckCount);

    const apiAllowed = apiAccessCheck(configuration.api.allowed, configuration.api.denied);
    const routes: HttpRoute[] = [
      ...coreRoutes({ appId: options.appId, health: this.health, metadata: this.metadata, shutdown: onShutdown }),
      ...stateRoutes(this.state),
      ...secretsRoutes(this.secrets),
      ...workflowRoutes(this.workflows),
      ...pubsubRoutes(this.publisher),
      ...bindingsRoutes(this.bindings),
      ...jobsRoutes(this.jobs),
      ...adminRoutes({
        appId: options.appId,
        startedAt: this.startedAt,
        state: this.state,
        components: this.components,
        traffic: this.traffic,
        logs: this.recentLogs,
        workflows: this.workflows,
        resources: () =>
          resourcesView({
            appId: options.appId,
            configuration,
            resiliencyDocs: resources.others.get('Resiliency') ?? [],
            resiliencyLoaded: this.resiliency?.loaded ?? [],
            subscriptionDocs: resources.others.get('Subscription') ?? [],
            subscriptions: this.subscriber?.list() ?? [],
          }),
      }),
    ].filter((r) => r.public || apiAllowed({ group: r.group, version: httpRouteVersion(r.path), protocol: 'http' }));
    const apiLogging = options.enableApiLogging ?? configuration.apiLogging.enabled;
    const httpObservers: ((r: HttpRequestRecord) => void)[] = [];
    if (metrics) httpObservers.push((r) => metrics.recordHttpServerRequest(r));
    if (apiLogging) httpObservers.push(httpApiLogger(logger, configuration.apiLogging));
    const grpcObservers: ((c: GrpcCallRecord) => void)[] = [];
    if (metrics) grpcObservers.push((c) => metrics.recordGrpcServerCall({ method: c.fullMethod, ...c }));
    const onApiError = metrics?.errorCodes ? { onApiError: (err: ApiError) => metrics.recordApiError(err) } : {};
    if (apiLogging) grpcObservers.push(grpcApiLogger(logger));

    const host = options.listenAddresses[0] ?? '127.0.0.1';
    const acl = parseAccessControl(configuration.file ?? '', configuration.spec.accessControl);
    if (options.mtls) {
      this.mtls = await Mtls.start(options.mtls, { appId: options.appId, namespace: options.namespace || DEFAULT_NAMESPACE }, {
        logger: logger.child('weft.runtime.security'),
        metrics: metrics ? new MtlsMetrics(metrics.registry, options.appId) : undefined,
      });
      const trustDomain = configuration.spec.accessControl?.trustDomain || DEFAULT_TRUST_DOMAIN;
      if (this.mtls.identity.trustDomain !== trustDomain) {
        logger.warn(`the mTLS certificate's trust domain "${this.mtls.identity.trustDomain}" differs from the Configuration's accessControl.trustDomain "${trustDomain}"`);
      }
    }
    this.invocation = await Invocation.start({
      options,
      acl,
      nameResolution: nameResolutionSpec(configuration),
      httpEndpoints: resources.others.get('HTTPEndpoint') ?? [],
      channel: () => this.appChannel,
      appReady: () => this.health.appAvailable(),
      logger,
      resiliency: this.resiliency,
      metrics: metrics?.invocation,
      tracer: this.tracer,
      mtls: this.mtls,
      grpcStream: () => this.grpcProxy?.handlePeer,
      plainGrpcStream: () => this.grpcProxy?.handlePlainPeer,
    });
    this.metadata.httpEndpointNames = this.invocation.endpoints.names();
    this.httpServer = new HttpApiServer({
      ...(this.tracer ? { tracer: this.tracer } : {}),
      intercept: this.invocation.forwarder.handle,
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

    this.grpcProxy = new GrpcProxy({
      appId: options.appId,
      namespace: options.namespace,
      resolver: this.invocation.resolver,
      // Kubernetes mode: peers take proxied gRPC calls on their internal port (the API is loopback-only).
      viaInternalPort: options.mode === 'kubernetes',
      acl,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
      app: () =>
        options.appPort && options.appProtocol === 'grpc' && this.health.appAvailable()
          ? { host: options.appChannelAddress, port: options.appPort }
          : undefined,
      logger: logger.child('weft.runtime.grpc'),
      mtls: this.mtls,
      tracer: this.tracer,
      resiliency: this.resiliency,
      ...(metrics ? { onProxiedCall: (role: 'server' | 'client', method: string, code: number, ms: number) => metrics.recordGrpcProxiedCall(role, method, code, ms) } : {}),
    });
    this.grpcServer = new GrpcApiServer({
      rawStreamHandler: this.grpcProxy.handle,
      tracer: this.tracer,
      logger: logger.child('weft.runtime.grpc'),
      maxMessageBytes: options.maxRequestBodyBytes,
      methodAllowed: (method) => apiAllowed(grpcMethodEndpoint(method)),
      ...(grpcObservers.length > 0 ? { observer: (c: GrpcCallRecord) => grpcObservers.forEach((o) => o(c)) } : {}),
      ...onApiError,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    });
    registerDaprGrpcService(this.grpcServer, {
      appId: options.appId,
      health: this.health,
      metadata: this.metadata,
      state: this.state,
      secrets: this.secrets,
      publisher: this.publisher,
      bindings: this.bindings,
      jobs: this.jobs,
      shutdown: onShutdown,
      invokeService: grpcInvokeHandler(this.invocation.forwarder) as never,
    });
    registerTaskHubService(this.grpcServer, this.workflows, logger.child('weft.runtime.workflow'));
    this.grpcPort = await this.grpcServer.listen(options.grpcPort, host);
    if (metrics && options.metricsPort >= 0) {
      this.metricsServer = new MetricsServer(metrics);
      this.metricsPort = await this.metricsServer.listen(options.metricsPort, options.metricsListenAddress);
    }
    if (options.publicPort !== undefined && options.publicPort >= 0) {
      this.publicServer = new PublicHealthServer(this.health);
      this.publicPort = await this.publicServer.listen(options.publicPort, options.publicListenAddress);
    }
    await this.invocation.publish(this.httpPort, this.grpcPort);
    // The dashboard reads each local sidecar's metrics from here.
    if (this.metricsPort) await this.invocation.resolver.update({ metricsPort: String(this.metricsPort), metricsAddress: options.metricsListenAddress });
    this.health.apiReady = true;

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
      waitForAppPort(appChannelAddress, appPort, this.appWait.signal).then(
        () => {
          this.health.appReady = true;
          logger.info(`application discovered on port ${appPort}`);
          this.startAppHealthChecks();
          if (this.appChannel && this.subscriber) void this.subscriber.start(this.appChannel);
          if (this.appChannel && !this.stopping) this.appEvents?.start(this.appChannel);
        },
        () => {},
      );
    } else {
      this.health.appReady = true;
    }
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
    this.health.apiReady = false;
    await this.subscriber?.stop();
    await this.appEvents?.close();
    await this.invocation?.close();
    this.grpcProxy?.close();
    this.mtls?.close();
    // Workflows before the gRPC server: it ends the worker streams, which would otherwise hold it open.
    await this.workflows?.close();
    await Promise.all([this.httpServer?.close(), this.grpcServer?.close(), this.appChannel?.close(), this.metricsServer?.close(), this.publicServer?.close()]);
    await this.components.closeAll();
    await this.tracer?.shutdown();
    if (this.freshDir) await fs.rm(this.freshDir, { recursive: true, force: true });
  }
}
