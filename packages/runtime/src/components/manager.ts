/**
 * Loads the sidecar's components: scope and namespace filtering, `envRef` and `secretKeyRef`
 * resolution (secret stores first, so others can reference them), `initTimeout` and `ignoreErrors`.
 */
import type { Logger } from '../logging/logger.js';
import type { ComponentResource } from '../resources/component-schema.js';
import type { LoadedDocument } from '../resources/loader.js';
import { ComponentInitError, ResourceError } from '../resources/loader.js';
import { durationField } from '../resources/duration-field.js';
import type { Component } from './component.js';
import type { MetadataProperties } from './metadata.js';
import { MetadataError, trackMetadataReads } from './metadata.js';
import { kindOf } from './registry.js';
import type { ComponentKind, ComponentRegistry } from './registry.js';
import type { SecretStore } from './secretstores/store.js';
import type { StateStore } from './state/store.js';
import type { PubSub } from './pubsub/store.js';

/** A component that initialised and serves requests. */
export interface LoadedComponent {
  name: string;
  type: string;
  version: string;
  kind: ComponentKind;
  /** Resolved metadata (secrets and env references substituted). */
  properties: MetadataProperties;
  instance: Component;
  /** Where it was declared (a file, or "embedded default"). */
  source: string;
}

/** A component that did not start and was skipped (`ignoreErrors: true`); its instance is closed. */
export interface FailedComponent {
  name: string;
  type: string;
  version: string;
  /** Why init failed (or that it timed out), as logged. */
  error: string;
}

/** What the manager needs from the sidecar. */
export interface ComponentManagerOptions {
  appId: string;
  namespace: string;
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  registry: ComponentRegistry;
  /**
   * Replaces a component's instance once it has initialised (the sidecar wraps outbound calls with
   * resiliency and metrics here; see `guard.ts`).
   */
  decorate?: (component: LoadedComponent) => Component;
  /** Told about every init, with the failure reason when it failed. */
  onInit?: (type: string, name: string, failure?: string) => void;
}

const DEFAULT_INIT_TIMEOUT_MS = 5000;

function stringifyValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms}ms (initTimeout)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fields the building blocks read from a component's metadata (after init, on first use), per kind;
 * together with what the driver reads at init they are every field that has an effect.
 */
const BLOCK_FIELDS: Record<string, readonly string[]> = {
  state: ['keyPrefix', 'actorStateStore'],
  pubsub: ['publishingScopes', 'subscriptionScopes', 'allowedTopics', 'protectedTopics', 'concurrencyMode', 'concurrency', 'consumerID'],
  bindings: ['direction', 'route'],
  secretstores: [],
  lock: ['keyPrefix'],
};

/** Owns every component instance of one sidecar. */
export class ComponentManager {
  private readonly loaded = new Map<string, LoadedComponent>();
  private readonly failedComponents = new Map<string, FailedComponent>();

  constructor(private readonly options: ComponentManagerOptions) {}

  /** Initialises the given declarations; secret stores go first. */
  async loadAll(documents: readonly LoadedDocument<ComponentResource>[]): Promise<void> {
    const applicable = documents.filter((d) => this.applies(d));
    const ordered = [
      ...applicable.filter((d) => kindOf(d.doc.spec.type) === 'secretstores'),
      ...applicable.filter((d) => kindOf(d.doc.spec.type) !== 'secretstores'),
    ];
    for (const document of ordered) await this.load(document);
  }

  /** Components that loaded, in load order. */
  list(): LoadedComponent[] {
    return [...this.loaded.values()];
  }

  /** Components skipped after a failed init (`ignoreErrors: true`), for the metadata API. */
  failed(): FailedComponent[] {
    return [...this.failedComponents.values()];
  }

  /** Components of one kind. */
  ofKind(kind: ComponentKind): LoadedComponent[] {
    return this.list().filter((c) => c.kind === kind);
  }

  /** A component by name, if loaded. */
  get(name: string): LoadedComponent | undefined {
    return this.loaded.get(name);
  }

  /** A state store by name, if loaded. */
  stateStore(name: string): StateStore | undefined {
    const c = this.loaded.get(name);
    return c?.kind === 'state' ? (c.instance as StateStore) : undefined;
  }

  /** A pub/sub component by name, if loaded. */
  pubsub(name: string): PubSub | undefined {
    const c = this.loaded.get(name);
    return c?.kind === 'pubsub' ? (c.instance as PubSub) : undefined;
  }

  /** A secret store by name, if loaded. */
  secretStore(name: string): SecretStore | undefined {
    const c = this.loaded.get(name);
    return c?.kind === 'secretstores' ? (c.instance as SecretStore) : undefined;
  }

  /** Closes every component, newest first; errors are logged, not thrown. */
  async closeAll(): Promise<void> {
    for (const component of this.list().reverse()) {
      try {
        await component.instance.close();
      } catch (err) {
        this.options.logger.warn(`error closing component ${component.name}`, { error: (err as Error).message });
      }
    }
    this.loaded.clear();
  }

  private applies({ doc, file }: LoadedDocument<ComponentResource>): boolean {
    const scopes = doc.scopes ?? [];
    if (scopes.length > 0 && !scopes.includes(this.options.appId)) {
      this.options.logger.debug(`skipping component ${doc.metadata.name}: app ${this.options.appId} is not in its scopes`, { file });
      return false;
    }
    const ns = doc.metadata.namespace;
    if (this.options.namespace && ns && ns !== this.options.namespace) return false;
    return true;
  }

  private async load({ doc, file }: LoadedDocument<ComponentResource>): Promise<void> {
    const { name } = doc.metadata;
    const kind = kindOf(doc.spec.type);
    const log = this.options.logger;
    try {
      if (!kind) throw new ResourceError(file, 'spec.type', `unknown component kind in "${doc.spec.type}"; supported: ${this.options.registry.supportedTypes().join(', ')}`);
      const instance = await this.options.registry.create(doc.spec.type, doc.spec.version);
      const properties = await this.resolveMetadata(doc, file);
      const timeoutMs = doc.spec.initTimeout ? durationField(file, 'spec.initTimeout', doc.spec.initTimeout) : DEFAULT_INIT_TIMEOUT_MS;
      const read = trackMetadataReads(properties);
      const abandon = new AbortController();
      const init = instance.init(properties, {
          signal: abandon.signal,
          name,
          appId: this.options.appId,
          namespace: this.options.namespace,
          dataDir: this.options.dataDir,
          logger: log.child(`weft.component.${name}`),
          env: this.options.env,
        });
      try {
        await withTimeout(init, timeoutMs, `init of component ${name} (${doc.spec.type})`);
      } catch (err) {
        // Whatever the driver opened (clients retrying in the background) must not outlive the failure:
        // close it now, and again when a timed-out init finishes late.
        abandon.abort();
        const close = (): Promise<void> => Promise.resolve().then(() => instance.close()).catch(() => undefined);
        void close();
        void init.then(close, close);
        throw err;
      }
      // A field nothing reads would silently do nothing: say so, naming it.
      const used = new Set([...read, ...(BLOCK_FIELDS[kind] ?? []).map((f) => f.toLowerCase())]);
      for (const field of Object.keys(properties)) {
        if (!used.has(field.toLowerCase())) {
          log.warn(`${file}: component "${name}" (${doc.spec.type}): metadata field "${field}" is not supported by Weft and has no effect (see docs/ for the fields of ${doc.spec.type})`);
        }
      }
      const loaded: LoadedComponent = { name, type: doc.spec.type, version: doc.spec.version, kind, properties, instance, source: file };
      if (this.options.decorate) loaded.instance = this.options.decorate(loaded);
      this.loaded.set(name, loaded);
      this.options.onInit?.(doc.spec.type, name);
      log.info(`component loaded: ${name} (${doc.spec.type}/${doc.spec.version})`);
    } catch (err) {
      const reason = err instanceof ResourceError ? err.message : `${file}: component "${name}" (${doc.spec.type}): ${(err as Error).message}`;
      this.options.onInit?.(doc.spec.type, name, 'init');
      if (doc.spec.ignoreErrors) {
        log.warn(`ignoring component that failed to initialise (ignoreErrors: true): ${reason}`);
        this.failedComponents.set(name, { name, type: doc.spec.type, version: doc.spec.version, error: (err as Error).message });
        return;
      }
      if (err instanceof ResourceError) throw err;
      // A metadata value the driver rejects is a mistake in the file; anything else is the backend.
      const ErrorType = err instanceof MetadataError ? ResourceError : ComponentInitError;
      throw new ErrorType(file, `component "${name}"`, `${doc.spec.type}: ${(err as Error).message}`);
    }
  }

  private async resolveMetadata(doc: ComponentResource, file: string): Promise<MetadataProperties> {
    const props: Record<string, string> = {};
    for (const [i, item] of (doc.spec.metadata ?? []).entries()) {
      const field = `spec.metadata[${i}] (${item.name})`;
      if (item.secretKeyRef) {
        const storeName = doc.auth?.secretStore;
        if (!storeName) throw new ResourceError(file, `${field}.secretKeyRef`, 'needs auth.secretStore naming the secret store to read it from');
        const store = this.secretStore(storeName);
        if (!store) throw new ResourceError(file, 'auth.secretStore', `secret store "${storeName}" is not loaded (declare it, or check its scopes)`);
        const key = item.secretKeyRef.key ?? item.secretKeyRef.name;
        let secret: Record<string, string>;
        try {
          secret = await store.getSecret(item.secretKeyRef.name, {});
        } catch (err) {
          throw new ResourceError(file, `${field}.secretKeyRef`, `cannot read secret "${item.secretKeyRef.name}" from "${storeName}": ${(err as Error).message}`);
        }
        const value = secret[key];
        if (value === undefined) throw new ResourceError(file, `${field}.secretKeyRef.key`, `secret "${item.secretKeyRef.name}" has no key "${key}"`);
        props[item.name] = value;
      } else if (item.envRef) {
        const value = this.options.env[item.envRef];
        if (value === undefined) this.options.logger.warn(`${file}: ${field}: environment variable ${item.envRef} is not set; using ""`);
        props[item.name] = value ?? '';
      } else {
        props[item.name] = stringifyValue(item.value);
      }
    }
    return props;
  }
}
