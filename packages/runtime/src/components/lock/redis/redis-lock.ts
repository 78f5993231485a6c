/**
 * `lock.redis`: Dapr's standalone Redis lock, with the same commands and key layout so Weft and daprd
 * sidecars can share locks: the lock is the string key (`lock||<appId>||<resourceId>`) holding the
 * owner, taken with `SET key owner PX <ms> NX` and released by one Lua script that deletes it only for
 * its owner (-1 when missing, -2 when someone else holds it).
 *
 * Metadata as `state.redis` (`redisHost`, `redisPassword`, `redisDB`, TLS …). Like Dapr's, this store
 * refuses Sentinel failover; with replicas a lock can be lost on failover, which Dapr refuses at init
 * and Weft reports as a warning.
 */
import type { Redis } from 'ioredis';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { connectRedis } from '../../redis-connect.js';
import { parseRedisStateMetadata } from '../../state/redis/metadata.js';
import { redisOptions } from '../../state/redis/metadata.js';
import type { LockStore, TryLockRequest, UnlockStatusValue } from '../store.js';
import { UnlockStatus } from '../store.js';

/** Dapr's unlock script (components-contrib `lock/redis/standalone.go`), byte for byte in behaviour. */
export const UNLOCK_SCRIPT =
  'local v = redis.call("get",KEYS[1]); if v==false then return -1 end; if v~=ARGV[1] then return -2 else return redis.call("del",KEYS[1]) end';

interface UnlockCommand {
  weftLockUnlock(numKeys: number, key: string, owner: string): Promise<number>;
}

/** Redis lock store. */
export class RedisLockStore implements LockStore {
  private client: (Redis & UnlockCommand) | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parseRedisStateMetadata(props);
    const client = await connectRedis(redisOptions(meta), context.logger, (c) => c.defineCommand('weftLockUnlock', { lua: UNLOCK_SCRIPT }));
    this.client = client as Redis & UnlockCommand;
    const replication = await client.info('replication').catch(() => '');
    const replicas = /connected_slaves:(\d+)/.exec(replication)?.[1];
    if (replicas && Number(replicas) > 0) {
      context.logger.warn(`lock.redis: the Redis server has ${replicas} replica(s); a lock can be lost when a replica takes over (Dapr refuses this set-up)`);
    }
  }

  async tryLock(request: TryLockRequest): Promise<boolean> {
    const reply = await this.redis().set(request.key, request.owner, 'PX', request.expiryInSeconds * 1000, 'NX');
    return reply === 'OK';
  }

  async unlock(key: string, owner: string): Promise<UnlockStatusValue> {
    const result = Number(await this.redis().weftLockUnlock(1, key, owner));
    if (result >= 0) return UnlockStatus.SUCCESS;
    if (result === -1) return UnlockStatus.LOCK_DOES_NOT_EXIST;
    if (result === -2) return UnlockStatus.LOCK_BELONGS_TO_OTHERS;
    return UnlockStatus.INTERNAL_ERROR;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }

  private redis(): Redis & UnlockCommand {
    if (!this.client) throw new Error('lock.redis is not initialised');
    return this.client;
  }
}
