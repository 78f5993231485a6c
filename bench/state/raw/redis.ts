/**
 * The raw baseline for `state.redis`: ioredis doing what the driver
 * (`packages/runtime/src/components/state/redis/redis-store.ts`) does for one save and one get, on one
 * connection like the driver's, with the driver's client options (its metadata defaults: `readTimeout`
 * 3 s as ioredis' `commandTimeout`, retries): a save runs the driver's own Lua script (imported, so the
 * two cannot drift apart), a get is `MULTI; HMGET key data version contentType; PTTL key; EXEC`.
 */
import { Redis } from 'ioredis';
import { parseRedisStateMetadata, redisOptions } from '../../../packages/runtime/src/components/state/redis/metadata.js';
import { APPLY_SCRIPT, VERSION_COUNTER_KEY } from '../../../packages/runtime/src/components/state/redis/scripts.js';
import type { StateClient } from '../clients.js';
import { valueJson } from '../clients.js';

interface ApplyCommand {
  weftStateApply(numKeys: number, ...args: (string | Buffer)[]): Promise<number>;
}

/** Connects to Redis and registers the driver's script. */
export async function rawRedisClient(host: string, port: number, valueBytes: number): Promise<StateClient> {
  const redis = new Redis(redisOptions(parseRedisStateMetadata({ redisHost: `${host}:${port}` }))) as Redis & ApplyCommand;
  redis.defineCommand('weftStateApply', { lua: APPLY_SCRIPT });
  await redis.connect();
  const value = Buffer.from(valueJson(valueBytes));
  return {
    async save(key) {
      const failed = await redis.weftStateApply(2, VERSION_COUNTER_KEY, key, 's', '', '0', value, '', '');
      if (failed !== 0) throw new Error(`save of ${key} failed its check`);
    },
    async get(key) {
      const replies = await redis.multi().hmgetBuffer(key, 'data', 'version', 'contentType').pttl(key).exec();
      const fields = replies?.[0]?.[1] as (Buffer | null)[] | undefined;
      const data = fields?.[0];
      if (!data) throw new Error(`key ${key} not found`);
      if (data.length !== valueBytes) throw new Error(`get returned ${data.length} bytes, expected ${valueBytes}`);
    },
    async close() {
      await redis.quit();
    },
  };
}

/** Deletes every key matching `pattern` (SCAN, never KEYS). */
export async function cleanupRedis(host: string, port: number, pattern: string): Promise<void> {
  const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
