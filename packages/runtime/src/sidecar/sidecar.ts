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
import { pubsubRoutes } from '../api/http/pubsub-routes.js';
import type { HttpRoute } from '../api/http/types.js';
import { GrpcApiServer } from '../api/grpc/server.js';
import { registerDaprGrpcService } from '../api/grpc/dapr-service.js';
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
import { waitForAppPort } from './app-channel.js';
import { EMBEDDED_SOURCE, embeddedComponents } from './embedded.js';
import { HealthState } from './health.js';
import type { SidecarOptions } from './options.js';

/** Extra wiring for tests and embedders. */
export interface SidecarStartOptions {
  logger?: Logger;
  registry?: ComponentRegistry;
  /** Called when the app asks for shutdown (`POST /v1.0/shutdown`). */
  onShutdownRequested?: () => void;
  /** Throw-away data directory, removed on stop (`--fresh`). */
  fresh?: boolean;
  /** Pub/sub delivery retries and timeout; defaults come from `WEFT_PUBSUB_*` in the options' env. */
  deliveryPolicy?: DeliveryPolicy;
}

/** A running sidecar. */
export class Sidecar {
  readonly health = new HealthState();
  httpPort = 0;
  grpcPort = 0;
  /** The channel to the app; undefined without `--app-port` (or for gRPC apps until that lands). */
  appChannel: AppChannel | undefined;
  private httpServer: HttpApiServer | undefined;
  private grpcServer: GrpcApiServer | undefined;
  /** Publishing (HTTP, gRPC, dead letters). */
  readonly publisher: PubSubPublisher;
  /** Subscriptions and delivery to the app; set once resources are loaded. */
  subscriber: PubSubSubscriber | undefined;
  private readonly appWait = new AbortController();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly options: SidecarOptions,
    readonly logger: Logger,
    readonly components: ComponentManager,
    readonly metadata: MetadataBlock,
    readonly state: StateBlock,
    readonly secrets: SecretsBlock,
    private readonly freshDir: string | undefined,
    private readonly deliveryPolicy: DeliveryPolicy,
  ) {
    this.publisher = new PubSubPublisher(components, options.appId);
    metadata.setSubscriptionsSource(() => this.subscriber?.list() ?? []);
  }

  /** Loads everything and starts serving; rejects (after cleaning up) if anything fails. */
  static async start(input: SidecarOptions, extra: SidecarStartOptions = {}): Promise<Sidecar> {
    const freshDir = extra.fresh ? await fs.mkdtemp(path.join(os.tmpdir(), 'weft-fresh-')) : undefined;
    const options: SidecarOptions = freshDir ? { ...input, dataDir: freshDir } : input;
    const logger = extra.logger ?? createLogger({ level: options.logLevel, json: options.logAsJson, appId: options.appId });
    const components = new ComponentManager({
      appId: options.appId,
      namespace: options.namespace,
      dataDir: options.dataDir,
      env: options.env,
      logger,
      registry: extra.registry ?? builtinRegistry(),
    });
    const metadata = new MetadataBlock(options, components);
    const sidecar = new Sidecar(
      options,
      logger,
      components,
      metadata,
      new StateBlock(components, options.appId, options.namespace),
      new SecretsBlock(components),
      freshDir,
      extra.deliveryPolicy ?? deliveryPolicyFromEnv(options.env),
    );
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
      `  app channel: ${o.appPort ? `${o.appProtocol}://${o.appChannelAddress}:${o.appPort}` : 'none (no --app-port)'}`,
    ];
    for (const c of this.components.list()) lines.push(`  component ${c.name} (${c.type}/${c.version}) from ${c.source}`);
    lines.push(`  data: ${this.freshDir ? `${this.dataDir} (fresh, removed on exit)` : this.dataDir}`);
    return lines;
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
    await this.components.loadAll(resources.components);
    this.subscriber = new PubSubSubscriber({
      components: this.components,
      appId: options.appId,
      logger: logger.child('weft.runtime.pubsub'),
      policy: this.deliveryPolicy,
      declarative: resources.others.get('Subscription') ?? [],
    });
    this.health.componentsReady = true;

    const routes: HttpRoute[] = [
      ...coreRoutes({ appId: options.appId, health: this.health, metadata: this.metadata, shutdown: onShutdown }),
      ...stateRoutes(this.state),
      ...secretsRoutes(this.secrets),
      ...pubsubRoutes(this.publisher),
    ];
    const host = options.listenAddresses[0] ?? '127.0.0.1';
    this.httpServer = new HttpApiServer({
      routes,
      logger: logger.child('weft.runtime.http'),
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    });
    this.httpPort = await this.httpServer.listen(options.httpPort, host);

    this.grpcServer = new GrpcApiServer({
      logger: logger.child('weft.runtime.grpc'),
      maxMessageBytes: options.maxRequestBodyBytes,
      ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    });
    registerDaprGrpcService(this.grpcServer, {
      appId: options.appId,
      health: this.health,
      metadata: this.metadata,
      state: this.state,
      secrets: this.secrets,
      publisher: this.publisher,
      shutdown: onShutdown,
    });
    this.grpcPort = await this.grpcServer.listen(options.grpcPort, host);
    this.health.apiReady = true;

    if (options.appPort && (options.appProtocol === 'http' || options.appProtocol === 'https')) {
      this.appChannel = new HttpAppChannel({
        protocol: options.appProtocol,
        host: options.appChannelAddress,
        port: options.appPort,
        ...(options.appApiToken ? { appApiToken: options.appApiToken } : {}),
      });
    }
    if (options.appPort) {
      const { appChannelAddress, appPort } = options;
      waitForAppPort(appChannelAddress, appPort, this.appWait.signal).then(
        () => {
          this.health.appReady = true;
          logger.info(`application discovered on port ${appPort}`);
          if (this.appChannel && this.subscriber) void this.subscriber.start(this.appChannel);
        },
        () => {},
      );
    } else {
      this.health.appReady = true;
    }
  }

  private async shutdown(): Promise<void> {
    this.appWait.abort();
    this.health.apiReady = false;
    await this.subscriber?.stop();
    await Promise.all([this.httpServer?.close(), this.grpcServer?.close(), this.appChannel?.close()]);
    await this.components.closeAll();
    if (this.freshDir) await fs.rm(this.freshDir, { recursive: true, force: true });
  }
}
