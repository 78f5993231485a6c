/** Metadata of `pubsub.redis`, named as Dapr's Redis Streams pub/sub names it. */
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readBool, readDurationMs, readInt, readProperty, readString, requireString } from '../../metadata.js';

/** Parsed `pubsub.redis` metadata. */
export interface RedisPubSubMetadata {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  enableTLS: boolean;
  /** How often pending messages of dead or slow consumers are reclaimed; 0 disables. @default 60000 */
  redeliverIntervalMs: number;
  /** How long a delivered message may stay unacknowledged before another consumer takes it. @default 60000 */
  processingTimeoutMs: number;
  /** `MAXLEN ~` on every XADD; 0 keeps everything. @default 0 */
  maxLenApprox: number;
  /** Longest XREADGROUP block, which bounds how fast a closing subscription notices. @default 1000 */
  blockMs: number;
}

/** Decodes and checks `pubsub.redis` metadata. */
export function parseRedisPubSubMetadata(props: MetadataProperties): RedisPubSubMetadata {
  const hostPort = requireString(props, 'redisHost');
  const at = hostPort.lastIndexOf(':');
  const host = at === -1 ? hostPort : hostPort.slice(0, at);
  const port = at === -1 ? 6379 : Number(hostPort.slice(at + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new MetadataError('redisHost', `expected host:port, got "${hostPort}"`);
  const username = readProperty(props, 'redisUsername');
  const password = readProperty(props, 'redisPassword');
  const meta: RedisPubSubMetadata = {
    host,
    port,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    db: readInt(props, 'redisDB', 0),
    enableTLS: readBool(props, 'enableTLS', false),
    redeliverIntervalMs: readDurationMs(props, 'redeliverInterval', 60_000),
    processingTimeoutMs: readDurationMs(props, 'processingTimeout', 60_000),
    maxLenApprox: readInt(props, 'maxLenApprox', 0),
    blockMs: readDurationMs(props, 'blockTimeout', 1000),
  };
  if (meta.maxLenApprox < 0) throw new MetadataError('maxLenApprox', 'must not be negative');
  if (meta.processingTimeoutMs <= 0) throw new MetadataError('processingTimeout', 'must be positive');
  if (readString(props, 'redisType', 'node') !== 'node') throw new MetadataError('redisType', 'only "node" is supported');
  return meta;
}
