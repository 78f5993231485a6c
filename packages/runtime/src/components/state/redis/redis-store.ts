/**
 * `state.redis`: state in Redis hashes laid out as Dapr lays them out (`data` + `version`), so etags
 * are version numbers. Every write is one Lua script ({@link APPLY_SCRIPT}), which makes etag checks
 * atomic with the writes and transactions all-or-nothing. TTLs are Redis key expiries.
 *
 * Not supported: the query API (Dapr's needs the RediSearch module), Redis Cluster and Sentinel.
 */
import type { Redis } from 'ioredis';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { assertNumericEtag } from '../etag.js';
import { ETagMismatchError } from '../store.js';
import type {
  BulkStateStore,
  StateDeleteRequest,
  StateFeature,
  StateGetRequest,
  StateItem,
  StateOperation,
  StateSetRequest,
  TransactionalStateStore,
} from '../store.js';
import { parseRedisStateMetadata, redisOptions } from './metadata.js';
import { connectRedis } from '../../redis-connect.js';
import { APPLY_SCRIPT, VERSION_COUNTER_KEY } from './scripts.js';

const FEATURES: readonly StateFeature[] = ['ETAG', 'TRANSACTIONAL', 'TTL'];

/** The script registered with `defineCommand`, as ioredis exposes it. */
interface ApplyCommand {
  weftStateApply(numKeys: number, ...args: (string | Buffer)[]): Promise<number>;
}

type RawReply = [Error | null, unknown][] | null;

/** Turns one `HMGET data version contentType` + `PTTL` pair into an item. */
function toItem(fields: unknown, pttl: unknown, now: number): StateItem | undefined {
  if (!Array.isArray(fields)) return undefined;
  const [data, version, contentType] = fields as (Buffer | null)[];
  if (!data) return undefined;
  const ttlMs = typeof pttl === 'number' ? pttl : Number(pttl);
  return {
    value: data,
    // A hash written without a version (not by Weft or Dapr) still needs an etag a write can match.
    etag: version ? version.toString('utf8') : '',
    ...(ttlMs > 0 ? { expiresAt: new Date(now + ttlMs) } : {}),
    ...(contentType && contentType.length > 0 ? { contentType: contentType.toString('utf8') } : {}),
  };
}

/** Unwraps a MULTI reply, throwing the first command error. */
function unwrap(reply: RawReply): unknown[] {
  if (!reply) throw new Error('redis transaction was aborted');
  return reply.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** Redis state store with etags, TTL and transactions. */
export class RedisStateStore implements TransactionalStateStore, BulkStateStore {
  private client: (Redis & ApplyCommand) | undefined;
  private defaultTtl: number | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parseRedisStateMetadata(props);
    if (meta.queryIndexesIgnored) {
      context.logger.warn('queryIndexes is ignored: state.redis in Weft has no query API (it needs the RediSearch module)');
    }
    this.defaultTtl = meta.ttlInSeconds;
    const client = await connectRedis(redisOptions(meta), context.logger, (c) => c.defineCommand('weftStateApply', { lua: APPLY_SCRIPT }), context.signal);
    this.client = client as Redis & ApplyCommand;
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const found = await this.bulkGet([request.key]);
    return found.get(request.key);
  }

  /** Reads every key in one MULTI, so the values and their TTLs come from one moment. */
  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    if (keys.length === 0) return found;
    const multi = this.redis().multi();
    for (const key of keys) multi.hmgetBuffer(key, 'data', 'version', 'contentType').pttl(key);
    const replies = unwrap(await multi.exec());
    const now = Date.now();
    keys.forEach((key, i) => {
      const item = toItem(replies[2 * i], replies[2 * i + 1], now);
      if (item) found.set(key, item);
    });
    return found;
  }

  async set(request: StateSetRequest): Promise<void> {
    await this.multi([{ type: 'upsert', request }]);
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    await this.multi([{ type: 'delete', request }]);
  }

  async multi(operations: readonly StateOperation[]): Promise<void> {
    if (operations.length === 0) return;
    const keys: string[] = [VERSION_COUNTER_KEY];
    const args: (string | Buffer)[] = [];
    for (const op of operations) {
      // As Dapr's store: a save's etag is parsed as a version number (400 when it is not one); a
      // delete's is only compared with the stored version, so a malformed one is a mismatch.
      if (op.type !== 'delete') assertNumericEtag(op.request.etag);
      keys.push(op.request.key);
      const etag = op.request.etag ?? '';
      if (op.type === 'delete') {
        args.push('d', etag, '0', '', '', '');
      } else {
        const { request } = op;
        const ttl = request.ttlSeconds ?? this.defaultTtl;
        args.push(
          's',
          etag,
          request.options?.concurrency === 'first-write' ? '1' : '0',
          request.value,
          ttl === undefined ? '' : String(ttl),
          request.contentType ?? '',
        );
      }
    }
    const failed = await this.redis().weftStateApply(keys.length, ...keys, ...args);
    if (failed !== 0) {
      const op = operations[failed - 1];
      throw new ETagMismatchError(op ? op.request.key : '');
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }

  private redis(): Redis & ApplyCommand {
    if (!this.client) throw new Error('redis state store is not initialised or already closed');
    return this.client;
  }
}
