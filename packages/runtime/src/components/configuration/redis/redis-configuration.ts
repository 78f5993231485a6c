/**
 * `configuration.redis`: Dapr's Redis configuration store. Items are plain string keys whose value is
 * `value||version` (the version part optional), read with GET; keys holding other types are skipped,
 * as are empty values. Changes are seen through Redis keyspace notifications on
 * `__keyspace@<db>__:<key>` (one SUBSCRIBE per key, a PSUBSCRIBE on `*` when no keys are given), on a
 * connection of the watch's own. A change re-reads the key; a key that is gone arrives as an empty
 * item, as Dapr sends it.
 *
 * Keyspace notifications must be on. Dapr overwrites the server's `notify-keyspace-events` with
 * `Kg$xe`; Weft adds those flags to whatever is already set (so other users of the setting keep
 * theirs), and warns when the server refuses CONFIG SET (managed Redis: enable it there).
 */
import type { Redis } from 'ioredis';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import type { Logger } from '../../../logging/logger.js';
import { connectRedis } from '../../redis-connect.js';
import { parseRedisStateMetadata } from '../../state/redis/metadata.js';
import { redisOptions } from '../../state/redis/metadata.js';
import type { ConfigurationChangeHandler, ConfigurationItem, ConfigurationRequest, ConfigurationStore, ConfigurationWatch } from '../store.js';
import { DELETED_ITEM } from '../store.js';

/** The flags Dapr sets: keyspace events (K) for generic (g), string ($), expired (x) and evicted (e) keys. */
const REQUIRED_FLAGS = 'Kg$xe';

/** Splits a stored `value||version` as Dapr does (text after a second `||` is dropped). */
export function parseRedisConfigurationValue(raw: string): { value: string; version: string } {
  const parts = raw.split('||');
  return { value: parts[0] ?? '', version: parts[1] ?? '' };
}

/** The flags of `current` plus those in {@link REQUIRED_FLAGS}. */
export function withKeyspaceFlags(current: string): string {
  let flags = current;
  // "A" is an alias for "g$lshzxet"; it already covers g, $, x and e.
  const covered = (f: string) => flags.includes(f) || (flags.includes('A') && 'g$xe'.includes(f));
  for (const f of REQUIRED_FLAGS) if (!covered(f)) flags += f;
  return flags;
}

/** Redis configuration store. */
export class RedisConfigurationStore implements ConfigurationStore {
  private client: Redis | undefined;
  private db = 0;
  private logger: Logger | undefined;
  private readonly watches = new Set<Redis>();
  private notificationsChecked = false;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parseRedisStateMetadata(props);
    this.db = meta.db;
    this.logger = context.logger;
    this.client = await connectRedis(redisOptions(meta), context.logger);
  }

  async get(request: ConfigurationRequest): Promise<Record<string, ConfigurationItem>> {
    const client = this.redis();
    const keys = request.keys.length > 0 ? [...request.keys] : await this.allKeys();
    const items: Record<string, ConfigurationItem> = {};
    if (keys.length === 0) return items;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.get(key);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const [err, raw] = replies[i] ?? [null, null];
      if (err) {
        // A hash or list under the key is not a configuration item: Dapr skips it too.
        if (/WRONGTYPE/.test(err.message)) return;
        throw err;
      }
      if (typeof raw !== 'string') return;
      const { value, version } = parseRedisConfigurationValue(raw);
      if (value !== '') items[key] = { value, version, metadata: {} };
    });
    return items;
  }

  async watch(request: ConfigurationRequest, onChange: ConfigurationChangeHandler): Promise<ConfigurationWatch> {
    await this.ensureNotifications();
    const prefix = `__keyspace@${this.db}__:`;
    const subscriber = this.redis().duplicate();
    subscriber.on('error', (err: Error) => this.logger?.debug(`configuration.redis subscriber: ${err.message}`));
    this.watches.add(subscriber);
    const changed = (channel: string) => {
      if (!channel.startsWith(prefix)) return;
      const key = channel.slice(prefix.length);
      this.get({ keys: [key], metadata: request.metadata }).then(
        (items) => onChange({ [key]: items[key] ?? DELETED_ITEM }),
        (err: unknown) => this.logger?.warn(`configuration.redis: cannot read changed key "${key}": ${(err as Error).message}`),
      );
    };
    try {
      if (request.keys.length === 0) {
        subscriber.on('pmessage', (_pattern: string, channel: string) => changed(channel));
        await subscriber.psubscribe(`${prefix}*`);
      } else {
        subscriber.on('message', (channel: string) => changed(channel));
        await subscriber.subscribe(...request.keys.map((k) => prefix + k));
      }
    } catch (err) {
      this.watches.delete(subscriber);
      subscriber.disconnect();
      throw err;
    }
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.watches.delete(subscriber);
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }

  async close(): Promise<void> {
    for (const subscriber of this.watches) subscriber.disconnect();
    this.watches.clear();
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }

  /** Turns keyspace notifications on once, keeping flags already set. */
  private async ensureNotifications(): Promise<void> {
    if (this.notificationsChecked) return;
    const client = this.redis();
    try {
      const reply = (await client.config('GET', 'notify-keyspace-events')) as string[];
      const current = reply[1] ?? '';
      const wanted = withKeyspaceFlags(current);
      if (wanted !== current) await client.config('SET', 'notify-keyspace-events', wanted);
      this.notificationsChecked = true;
    } catch (err) {
      this.logger?.warn(
        `configuration.redis: cannot enable keyspace notifications (${(err as Error).message}); set notify-keyspace-events to include "${REQUIRED_FLAGS}" on the server, or subscriptions see no changes`,
      );
      this.notificationsChecked = true;
    }
  }

  private async allKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis().scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  }

  private redis(): Redis {
    if (!this.client) throw new Error('configuration.redis is not initialised');
    return this.client;
  }
}
