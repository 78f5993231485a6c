/**
 * What every component gets at init and must offer at close. Kinds add their own operations in their
 * contract files (`state/store.ts`, `secretstores/store.ts`).
 */
import type { Logger } from '../logging/logger.js';
import type { MetadataProperties } from './metadata.js';

/** Facts about the sidecar a driver may need (key prefixes, where the embedded data lives). */
export interface ComponentContext {
  /** `metadata.name` of the component. */
  readonly name: string;
  /** The app id of the sidecar that loaded it. */
  readonly appId: string;
  /** The namespace (`NAMESPACE` env), empty in self-hosted mode. */
  readonly namespace: string;
  /** Directory for embedded data (`./.weft` by default). */
  readonly dataDir: string;
  /** Logger scoped to this component. */
  readonly logger: Logger;
  /** The environment, injected so tests need not mutate `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Aborted when the sidecar gives up on this init (it failed, or `initTimeout` passed): a driver still
   * connecting stops and releases what it opened, since its `close()` may run before init assigned it.
   */
  readonly signal?: AbortSignal | undefined;
}

/** The lifecycle shared by all components. */
export interface Component {
  /** Connects and validates metadata; throws {@link MetadataError} for bad configuration. */
  init(props: MetadataProperties, context: ComponentContext): Promise<void>;
  /** Releases connections; must be safe to call twice. */
  close(): Promise<void>;
}
