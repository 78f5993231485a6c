/**
 * The configuration API, transport-neutral: reads items and runs subscriptions. A subscription has an
 * id (a UUID, as Dapr's stores make them), a sink (the app over HTTP, or a gRPC stream) and a driver
 * watch. It delivers the current values of its keys at once, then every change, in order: the watch
 * starts before the first read, and changes that arrive meanwhile wait behind the current values.
 */
import { randomUUID } from 'node:crypto';
import type { ComponentManager } from '../../components/manager.js';
import type { ConfigurationItem, ConfigurationStore, ConfigurationWatch } from '../../components/configuration/store.js';
import { isApiError } from '../../errors/api-error.js';
import type { Logger } from '../../logging/logger.js';
import { configurationErrors } from './configuration-errors.js';

/** Items by key. */
export type ConfigurationItems = Record<string, ConfigurationItem>;

/** Where a subscription's updates go; a rejection is logged, not retried. */
export type ConfigurationSink = (update: { id: string; items: ConfigurationItems }) => Promise<void>;

/** A get or subscribe request, decoded from either transport. */
export interface ConfigurationQuery {
  storeName: string;
  keys: readonly string[];
  metadata: Readonly<Record<string, string>>;
}

interface Subscription {
  id: string;
  storeName: string;
  watch: ConfigurationWatch | undefined;
  /** Serialises deliveries so the app sees them in order. */
  tail: Promise<void>;
  /** Told when the subscription ends (a gRPC stream closes). */
  onEnd?: () => void;
  closed: boolean;
}

/** Reads configuration items and runs subscriptions for one sidecar. */
export class ConfigurationBlock {
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(
    private readonly components: ComponentManager,
    private readonly logger: Logger,
  ) {}

  /** Items of the given keys (all when none); missing keys are left out. */
  async get(query: ConfigurationQuery): Promise<ConfigurationItems> {
    const store = this.store(query.storeName);
    try {
      return await store.get({ keys: query.keys, metadata: query.metadata });
    } catch (err) {
      if (isApiError(err)) throw err;
      throw configurationErrors.get(query.keys, query.storeName, (err as Error).message, err);
    }
  }

  /**
   * Starts a subscription and returns its id once the current values are on their way to `sink`.
   * `hooks.onStart` gets the id before anything is delivered (a gRPC stream's first message);
   * `hooks.onEnd` is called when it is unsubscribed (by id or at shutdown).
   */
  async subscribe(query: ConfigurationQuery, sink: ConfigurationSink, hooks: { onStart?: (id: string) => void; onEnd?: () => void } = {}): Promise<string> {
    const store = this.store(query.storeName);
    const { onEnd } = hooks;
    const sub: Subscription = { id: randomUUID(), storeName: query.storeName, watch: undefined, tail: Promise.resolve(), closed: false, ...(onEnd ? { onEnd } : {}) };
    // Changes seen before the current values are read wait here, then follow them.
    let early: ConfigurationItems[] | undefined = [];
    const deliver = (items: ConfigurationItems) => {
      if (sub.closed || Object.keys(items).length === 0) return;
      sub.tail = sub.tail.then(() =>
        sink({ id: sub.id, items }).catch((err: unknown) => {
          this.logger.warn(`configuration subscription ${sub.id} (${sub.storeName}): delivery failed: ${(err as Error).message}`);
        }),
      );
    };
    try {
      sub.watch = await store.watch({ keys: query.keys, metadata: query.metadata }, (items) => (early ? early.push(items) : deliver(items)));
      const current = await store.get({ keys: query.keys, metadata: query.metadata });
      this.subscriptions.set(sub.id, sub);
      hooks.onStart?.(sub.id);
      deliver(current);
      for (const items of early) deliver(items);
      early = undefined;
    } catch (err) {
      await sub.watch?.close().catch(() => undefined);
      if (isApiError(err)) throw err;
      throw configurationErrors.subscribe(query.keys, query.storeName, (err as Error).message, err);
    }
    return sub.id;
  }

  /** True when a subscription with this id was running (it is stopped now). */
  async unsubscribe(id: string): Promise<boolean> {
    const sub = this.subscriptions.get(id);
    if (!sub) return false;
    await this.end(sub);
    return true;
  }

  /** Checks the store the way daprd does before any configuration call. */
  checkStore(storeName: string): void {
    this.store(storeName);
  }

  /** Stops every subscription (shutdown). */
  async stop(): Promise<void> {
    await Promise.all([...this.subscriptions.values()].map((s) => this.end(s)));
  }

  private async end(sub: Subscription): Promise<void> {
    sub.closed = true;
    this.subscriptions.delete(sub.id);
    await sub.watch?.close().catch((err: unknown) => this.logger.warn(`configuration subscription ${sub.id}: closing its watch failed: ${(err as Error).message}`));
    sub.onEnd?.();
  }

  private store(storeName: string): ConfigurationStore {
    if (this.components.ofKind('configuration').length === 0) throw configurationErrors.notConfigured();
    const component = this.components.get(storeName);
    if (component?.kind !== 'configuration') throw configurationErrors.notFound(storeName);
    return component.instance as ConfigurationStore;
  }
}
