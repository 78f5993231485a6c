/**
 * Test-only drivers for resiliency suites: stores that fail or stall on command, and a minimal
 * Redis-backed state store (get/set/delete over ioredis with no client-side retries, so the
 * sidecar's policies are what recovers from a backend outage).
 */
import { Redis } from 'ioredis';
import type { ComponentRegistry} from '../../packages/runtime/src/index.js';
import { builtinRegistry } from '../../packages/runtime/src/index.js';
import { InMemoryStateStore } from '../../packages/runtime/src/components/state/in-memory/in-memory-store.js';
import { FileSecretStore } from '../../packages/runtime/src/components/secretstores/local-file/file-store.js';
import type { StateFeature, StateGetRequest, StateItem, StateSetRequest, StateDeleteRequest, StateStore } from '../../packages/runtime/src/components/state/store.js';
import type { MetadataProperties } from '../../packages/runtime/src/components/metadata.js';
import type { Secret } from '../../packages/runtime/src/components/secretstores/store.js';
import { InMemoryPubSub } from '../../packages/runtime/src/components/pubsub/in-memory/in-memory-pubsub.js';
import type { PublishRequest } from '../../packages/runtime/src/components/pubsub/store.js';

/** Shared switches of the faulty drivers. */
export interface FaultControl {
  /** Calls that will fail before calls succeed again. */
  failNext: number;
  /** Delay added to each call, ms. */
  delayMs: number;
  /** Backend calls seen. */
  calls: number;
}

export const faults: FaultControl = { failNext: 0, delayMs: 0, calls: 0 };

/** Resets the switches between tests. */
export function resetFaults(): void {
  Object.assign(faults, { failNext: 0, delayMs: 0, calls: 0 });
}

async function faultPoint(): Promise<void> {
  faults.calls++;
  if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
  if (faults.failNext > 0) {
    faults.failNext--;
    throw new Error('injected backend failure');
  }
}

class FlakyStateStore extends InMemoryStateStore {
  override async get(request: StateGetRequest): Promise<StateItem | undefined> {
    await faultPoint();
    return super.get(request);
  }
  override async set(request: StateSetRequest): Promise<void> {
    await faultPoint();
    return super.set(request);
  }
}

class FlakySecretStore extends FileSecretStore {
  override async getSecret(name: string): Promise<Secret> {
    await faultPoint();
    return super.getSecret(name);
  }
}

class FlakyPubSub extends InMemoryPubSub {
  override async publish(request: PublishRequest): Promise<void> {
    await faultPoint();
    return super.publish(request);
  }
}

class RedisProbeStore implements StateStore {
  private client: Redis | undefined;

  async init(props: MetadataProperties): Promise<void> {
    const [host, port] = String(props['redisHost'] ?? '').split(':');
    this.client = new Redis({
      host: host ?? '127.0.0.1',
      port: Number(port),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
      lazyConnect: true,
    });
    this.client.on('error', () => {});
    await this.client.connect();
  }
  features(): readonly StateFeature[] {
    return [];
  }
  private get redis(): Redis {
    if (!this.client) throw new Error('not initialised');
    return this.client;
  }
  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const value = await this.redis.getBuffer(request.key);
    return value ? { value, etag: "1" } : undefined;
  }
  async set(request: StateSetRequest): Promise<void> {
    await this.redis.set(request.key, request.value);
  }
  async delete(request: StateDeleteRequest): Promise<void> {
    await this.redis.del(request.key);
  }
  async close(): Promise<void> {
    this.client?.disconnect();
  }
}

/** The built-in drivers plus `state.flaky`, `secretstores.flaky`, `pubsub.flaky` and `state.redisprobe`. */
export function faultRegistry(): ComponentRegistry {
  return builtinRegistry()
    .register({ type: 'state.flaky', versions: ['v1'], create: () => new FlakyStateStore() })
    .register({ type: 'secretstores.flaky', versions: ['v1'], create: () => new FlakySecretStore() })
    .register({ type: 'pubsub.flaky', versions: ['v1'], create: () => new FlakyPubSub() })
    .register({ type: 'state.redisprobe', versions: ['v1'], create: () => new RedisProbeStore() });
}
