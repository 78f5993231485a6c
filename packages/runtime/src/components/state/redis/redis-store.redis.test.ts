/**
 * `state.redis` behaviour the conformance suite cannot see through the API: the storage layout shared
 * with Dapr, the store-wide TTL, the logical database and start-up failure.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_HOST, SERVICES, requireService } from '../../../../../../test/support/services.js';
import { silentLogger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import { ETagMismatchError } from '../store.js';
import { RedisStateStore } from './redis-store.js';
import { VERSION_COUNTER_KEY } from './scripts.js';

const run = await requireService(SERVICES.redis, 'state.redis driver');
const CONTEXT: ComponentContext = { name: 's', appId: 'redistest', namespace: '', dataDir: '', logger: silentLogger(), env: {} };

describe.skipIf(!run)('RedisStateStore', () => {
  const prefix = `weft-redis-test-${randomBytes(4).toString('hex')}||`;
  const stores: RedisStateStore[] = [];
  let raw: Redis;
  let raw5: Redis;

  async function open(extra: Record<string, string> = {}): Promise<RedisStateStore> {
    const store = new RedisStateStore();
    stores.push(store);
    await store.init({ redisHost: REDIS_HOST, ...extra }, CONTEXT);
    return store;
  }

  beforeAll(() => {
    const [host, port] = REDIS_HOST.split(':');
    raw = new Redis({ host, port: Number(port ?? 6379) });
    raw5 = new Redis({ host, port: Number(port ?? 6379), db: 5 });
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const client of [raw, raw5]) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });

  it('stores each key as a hash of data and version, as Dapr does', async () => {
    const store = await open();
    const key = `${prefix}layout`;
    await store.set({ key, value: Buffer.from('{"a":1}') });
    const hash = await raw.hgetall(key);
    expect(hash['data']).toBe('{"a":1}');
    expect(hash['version']).toBe((await store.get({ key }))?.etag);
    expect(await raw.ttl(key)).toBe(-1);
  });

  it('reads and updates a hash Dapr wrote, with versions that keep rising past Dapr\'s', async () => {
    const store = await open();
    const key = `${prefix}from-dapr`;
    // A version above Weft's store-wide counter, so the next one must come from the key, not the counter.
    const daprVersion = String(Number((await raw.get(VERSION_COUNTER_KEY)) ?? 0) + 10);
    await raw.hset(key, 'data', '"dapr"', 'version', daprVersion);
    const item = await store.get({ key });
    expect(item?.value.toString()).toBe('"dapr"');
    expect(item?.etag).toBe(daprVersion);
    await expect(store.set({ key, value: Buffer.from('"x"'), etag: String(Number(daprVersion) - 1) })).rejects.toBeInstanceOf(ETagMismatchError);
    await store.set({ key, value: Buffer.from('"weft"'), etag: daprVersion });
    const next = await store.get({ key });
    expect(next?.value.toString()).toBe('"weft"');
    expect(Number(next?.etag)).toBeGreaterThan(Number(daprVersion));
  });

  it('applies the component ttlInSeconds when a write names none, and a TTL of -1 overrides it', async () => {
    const store = await open({ ttlInSeconds: '100' });
    const key = `${prefix}default-ttl`;
    await store.set({ key, value: Buffer.from('1') });
    expect(await raw.ttl(key)).toBeGreaterThan(90);
    expect((await store.get({ key }))?.expiresAt).toBeInstanceOf(Date);
    await store.set({ key, value: Buffer.from('2'), ttlSeconds: -1 });
    expect(await raw.ttl(key)).toBe(-1);
    expect((await store.get({ key }))?.expiresAt).toBeUndefined();
    await store.set({ key, value: Buffer.from('3'), ttlSeconds: 5 });
    expect(await raw.ttl(key)).toBeLessThanOrEqual(5);
  });

  it('keeps state in the database redisDB names', async () => {
    const store = await open({ redisDB: '5' });
    const key = `${prefix}db5`;
    await store.set({ key, value: Buffer.from('"five"') });
    expect(await raw5.hget(key, 'data')).toBe('"five"');
    expect(await raw.exists(key)).toBe(0);
  });

  it('fails init with an error naming the address when Redis cannot be reached', async () => {
    const store = new RedisStateStore();
    await expect(store.init({ redisHost: '127.0.0.1:1', dialTimeout: '1s' }, CONTEXT)).rejects.toThrow(
      /cannot reach Redis at 127\.0\.0\.1:1: connection refused/,
    );
    await store.close();
  });
});
