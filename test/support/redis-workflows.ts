/**
 * Redis workflow stores for tests: each under an app id of its own (so its own key prefix), and every
 * key of the app ids a suite used deleted when it is done.
 */
import { Redis } from 'ioredis';
import { silentLogger } from '../../packages/runtime/src/logging/logger.js';
import { RedisWorkflowBackend, redisWorkflowPrefix } from '../../packages/runtime/src/workflow/redis-backend.js';
import { REDIS_HOST } from './services.js';

const [host = '127.0.0.1', port = '6379'] = REDIS_HOST.split(':');

/** Connection settings of the test Redis. */
export const TEST_REDIS = { host, port: Number(port) };

/** A fresh app id for a Redis workflow store, remembered for {@link dropRedisWorkflowApps}. */
export function newRedisWorkflowApp(label: string): string {
  const appId = `${label}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  usedApps.add(appId);
  return appId;
}

const usedApps = new Set<string>();

/** Opens a backend on the test Redis for `appId`. */
export function openRedisWorkflowBackend(appId: string): Promise<RedisWorkflowBackend> {
  usedApps.add(appId);
  return RedisWorkflowBackend.open({ redis: { ...TEST_REDIS }, appId, logger: silentLogger() });
}

/** Deletes every key of the given app ids (by default, all this process used). */
export async function dropRedisWorkflowApps(appIds: Iterable<string> = usedApps): Promise<void> {
  const ids = [...appIds];
  if (ids.length === 0) return;
  const client = new Redis({ ...TEST_REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    for (const appId of ids) {
      // The prefix holds `{`/`}`, which MATCH reads literally except inside `[...]`: escape nothing else.
      const pattern = `${redisWorkflowPrefix(appId).replace(/[?*[\]\\]/g, '\\$&')}*`;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
      usedApps.delete(appId);
    }
  } finally {
    client.disconnect();
  }
}
