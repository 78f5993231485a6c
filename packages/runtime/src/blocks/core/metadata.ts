/**
 * The metadata API: who this sidecar is, what it loaded and how it reaches the app. The SDKs use
 * `GET /v1.0/metadata` as their readiness probe, so the body is never empty.
 */
import type { ComponentManager, FailedComponent, LoadedComponent } from '../../components/manager.js';
import type { SecretStore } from '../../components/secretstores/store.js';
import type { StateStore } from '../../components/state/store.js';
import type { PubSub } from '../../components/pubsub/store.js';
import { bindingCapabilities } from '../../components/bindings/binding.js';
import type { SidecarOptions } from '../../sidecar/options.js';
import { RUNTIME_VERSION } from '../../version.js';

/** One component as the metadata API lists it. */
export interface ComponentMetadata {
  name: string;
  type: string;
  version: string;
  capabilities: string[];
}

/**
 * daprd's `actorRuntime` (`pkg/actors/actors.go` `RuntimeStatus`): `INITIALIZING` until the app's actor
 * configuration is read, then `RUNNING`; `activeActors` and `placement` are left out when empty.
 */
export interface ActorRuntimeStatus {
  runtimeStatus: 'INITIALIZING' | 'DISABLED' | 'RUNNING';
  activeActors?: { type: string; count: number }[];
  hostReady: boolean;
  placement?: string;
}

/** The `GET /v1.0/metadata` body (Dapr's JSON field names). */
export interface MetadataResponse {
  id: string;
  runtimeVersion: string;
  enabledFeatures: string[];
  actors: { type: string; count: number }[];
  /** The actor runtime's status (Dapr 1.16's `actorRuntime`). */
  actorRuntime?: ActorRuntimeStatus;
  components: ComponentMetadata[];
  extended: Record<string, string>;
  subscriptions: unknown[];
  /** Connected workflow workers (as Dapr reports them) and, beyond Dapr, instances flagged stuck. */
  workflows?: { connectedWorkers: number; stuckInstances: number };
  /**
   * Beyond Dapr (which leaves them out): components skipped because their init failed or timed out
   * under `ignoreErrors: true`, with the reason. Omitted when there are none.
   */
  failedComponents?: FailedComponent[];
  httpEndpoints: { name: string }[];
  appConnectionProperties: {
    port?: number;
    protocol: string;
    channelAddress: string;
    maxConcurrency?: number;
    health?: { healthCheckPath: string; healthProbeInterval: string; healthProbeTimeout: string; healthThreshold: number };
  };
}

/** Capabilities of a loaded component, as Dapr reports them. */
export function capabilitiesOf(component: LoadedComponent): string[] {
  switch (component.kind) {
    case 'state': {
      const features = (component.instance as StateStore).features();
      // As daprd (runtime.go getComponentsCapabilitesMap): any store with ETags and transactions can
      // host actors, so it is listed as ACTOR whether or not `actorStateStore` is set on it.
      const canHostActors = features.includes('ETAG') && features.includes('TRANSACTIONAL');
      return canHostActors ? [...features, 'ACTOR'] : [...features];
    }
    case 'secretstores':
      return [...(component.instance as SecretStore).features()];
    case 'pubsub':
      // ORDERED is Weft's own capability; the metadata API reports Dapr's names only.
      return (component.instance as PubSub).features().filter((f) => f !== 'ORDERED');
    case 'bindings':
      return bindingCapabilities(component.instance);
    default:
      return [];
  }
}

/** Holds the extended attributes (`PUT /v1.0/metadata/{key}`) and renders the metadata body. */
export class MetadataBlock {
  private readonly extended = new Map<string, string>();
  /** Names of the loaded `HTTPEndpoint` resources (set by the invocation block when it starts). */
  httpEndpointNames: string[] = [];
  private subscriptionsSource: () => unknown[] = () => [];

  constructor(
    private readonly options: SidecarOptions,
    private readonly components: ComponentManager,
  ) {
    this.extended.set('daprRuntimeVersion', RUNTIME_VERSION);
  }

  /** Where the subscriptions listed in the metadata come from (the pub/sub block). */
  setSubscriptionsSource(source: () => unknown[]): void {
    this.subscriptionsSource = source;
  }

  private workflowsSource: (() => { connectedWorkers: number; stuckInstances: number }) | undefined;

  /** Where the `workflows` section comes from, once the workflow engine runs. */
  setWorkflowsSource(source: () => { connectedWorkers: number; stuckInstances: number }): void {
    this.workflowsSource = source;
  }

  private actorsSource: (() => { type: string; count: number }[]) | undefined;
  private actorRuntimeSource: (() => ActorRuntimeStatus) | undefined;

  /** Where the active actors and the actor runtime's status come from, once the actor runtime exists. */
  setActorsSource(source: () => { type: string; count: number }[], runtime: () => ActorRuntimeStatus): void {
    this.actorsSource = source;
    this.actorRuntimeSource = runtime;
  }

  /** Sets one extended attribute (in memory only, as in Dapr). */
  set(key: string, value: string): void {
    this.extended.set(key, value);
  }

  /** The full metadata document. */
  get(): MetadataResponse {
    const { options } = this;
    const failed = this.components.failed();
    return {
      id: options.appId,
      runtimeVersion: RUNTIME_VERSION,
      enabledFeatures: [],
      actors: this.actorsSource?.() ?? [],
      ...(this.actorRuntimeSource ? { actorRuntime: this.actorRuntimeSource() } : {}),
      components: this.components.list().map((c) => ({ name: c.name, type: c.type, version: c.version, capabilities: capabilitiesOf(c) })),
      ...(failed.length > 0 ? { failedComponents: failed } : {}),
      extended: Object.fromEntries(this.extended),
      subscriptions: this.subscriptionsSource(),
      ...(this.workflowsSource ? { workflows: this.workflowsSource() } : {}),
      httpEndpoints: this.httpEndpointNames.map((name) => ({ name })),
      appConnectionProperties: {
        ...(options.appPort ? { port: options.appPort } : {}),
        protocol: options.appProtocol,
        channelAddress: options.appChannelAddress,
        ...(options.appHealthCheck
          ? {
              health: {
                // Dapr renders Go durations here.
                healthCheckPath: options.appHealthCheck.path,
                healthProbeInterval: `${options.appHealthCheck.intervalMs / 1000}s`,
                healthProbeTimeout: `${options.appHealthCheck.timeoutMs}ms`,
                healthThreshold: options.appHealthCheck.threshold,
              },
            }
          : {}),
      },
    };
  }
}
