/**
 * The definition cache: Redis when `REDIS_URL` is set, else an in-process map with the same rules
 * (entries expire after the TTL; every change deletes the entry). Values are JSON text.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A string cache with per-entry TTL. */
export interface Cache {
  /** `redis (host, prefix p)` or `in-process`: for the start-up banner. */
  readonly description: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Redis-backed cache; every key carries `prefix`, so several services (or test runs) share one Redis. */
export class RedisCache implements Cache {
  readonly description: string;
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string, logger?: Logger) {
    // Fail commands fast while Redis is away instead of queueing them: the cache is an optimisation,
    // so a read falls back to the database (see DefinitionService) rather than hanging the request.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on('error', (err: Error) => logger?.warn({ err: err.message }, 'redis error'));
    this.description = `redis ${new URL(url).host} (prefix "${prefix}")`;
  }

  /** Resolves once connected (start-up checks it so that a wrong REDIS_URL is reported at once). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis at ${this.description} not ready after ${timeoutMs} ms`)), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }
  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'EX', ttlSeconds);
  }
  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** In-process cache with the same TTL and invalidation rules (one process: nothing to share). */
export class MemoryCache implements Cache {
  readonly description = 'in-process';
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now, private readonly maxEntries = 10_000) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    // Bounded: drop the oldest entry (Map keeps insertion order) rather than grow without limit.
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async close(): Promise<void> {
    this.entries.clear();
  }
}
