/**
 * Metadata of `state.redis`, named as Dapr's Redis state store names it (`redisHost`, `redisDB`,
 * `ttlInSeconds`...). Dapr's connection-pool keys (`poolSize`, `minIdleConns`, `idleTimeout`...) are
 * accepted and ignored: ioredis multiplexes one connection, so they have nothing to tune.
 */
import type { RedisOptions } from 'ioredis';
import type { MetadataProperties } from '../../metadata.js';
import {
  MetadataError,
  readBool,
  readDurationMs,
  readInt,
  readProperty,
  readString,
  requireString,
} from '../../metadata.js';

/** Parsed `state.redis` metadata. */
export interface RedisStateMetadata {
  host: string;
  port: number;
  /** @default undefined (no AUTH) */
  password?: string;
  /** ACL user name (Redis 6+). */
  username?: string;
  /** Logical database. @default 0 */
  db: number;
  /** Connect over TLS. @default false */
  enableTLS: boolean;
  /** PEM client certificate and key for mutual TLS (only with `enableTLS`). */
  clientCert?: string;
  clientKey?: string;
  /** Skip server certificate verification (only with `enableTLS`). @default false */
  insecureSkipVerify: boolean;
  /** Store-wide TTL applied when a write names none; undefined keeps values forever. */
  ttlInSeconds?: number;
  /** Retries of a failed command before it fails. @default 3 */
  maxRetries: number;
  /** Lower bound of the reconnect backoff. @default 8 */
  minRetryBackoffMs: number;
  /** Upper bound of the reconnect backoff. @default 2000 */
  maxRetryBackoffMs: number;
  /** Connect timeout. @default 5000 */
  dialTimeoutMs: number;
  /** Per-command timeout; 0 waits forever. @default 3000 */
  readTimeoutMs: number;
  /** Whether this store holds actor state (reported by the metadata API). @default false */
  actorStateStore: boolean;
  /** Set when `queryIndexes` was given: Weft has no RediSearch support, so it is ignored with a warning. */
  queryIndexesIgnored: boolean;
}

/** Splits `host:port` (IPv6 as `[::1]:6379`); the port defaults to 6379. */
function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(value.trim());
  const host = match?.[1] ?? match?.[2];
  if (!match || !host) throw new MetadataError('redisHost', `expected "host:port", got "${value}"`);
  const port = match[3] === undefined ? 6379 : Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new MetadataError('redisHost', `port must be 1-65535, got "${match[3]}"`);
  return { host, port };
}

/** Decodes and checks `state.redis` metadata. */
export function parseRedisStateMetadata(props: MetadataProperties): RedisStateMetadata {
  const hostValue = requireString(props, 'redisHost');
  if (hostValue.includes(',')) {
    throw new MetadataError('redisHost', 'lists several hosts; Redis Cluster and Sentinel are not supported by Weft yet, give one "host:port"');
  }
  const redisType = readString(props, 'redisType', 'node').toLowerCase();
  if (redisType !== 'node') throw new MetadataError('redisType', `only "node" is supported, got "${redisType}"`);
  if (readBool(props, 'failover', false)) throw new MetadataError('failover', 'Redis Sentinel failover is not supported by Weft yet');
  if (readBool(props, 'useEntraID', false)) throw new MetadataError('useEntraID', 'Entra ID authentication is not supported by Weft');

  const { host, port } = parseHostPort(hostValue);
  const db = readInt(props, 'redisDB', 0);
  if (db < 0) throw new MetadataError('redisDB', `must be 0 or more, got ${db}`);
  const ttlRaw = readProperty(props, 'ttlInSeconds');
  let ttlInSeconds: number | undefined;
  if (ttlRaw !== undefined && ttlRaw !== '') {
    ttlInSeconds = readInt(props, 'ttlInSeconds', 0);
    if (ttlInSeconds < -1) throw new MetadataError('ttlInSeconds', `must be -1 (never expire) or more, got ${ttlInSeconds}`);
    if (ttlInSeconds === -1) ttlInSeconds = undefined;
  }
  // Dapr's state store spells the retry count `maxRetries`; its shared Redis settings `redisMaxRetries`.
  const maxRetries = readInt(props, 'maxRetries', readInt(props, 'redisMaxRetries', 3));
  if (maxRetries < 0) throw new MetadataError('maxRetries', `must be 0 or more, got ${maxRetries}`);
  // Bare numbers are seconds, as Dapr's duration decoder reads them.
  const minRetryBackoffMs = readDurationMs(props, 'minRetryBackoff', readDurationMs(props, 'redisMinRetryInterval', 8));
  const maxRetryBackoffMs = readDurationMs(props, 'maxRetryBackoff', readDurationMs(props, 'redisMaxRetryInterval', 2000));
  if (maxRetryBackoffMs < minRetryBackoffMs) {
    throw new MetadataError('maxRetryBackoff', `must not be below minRetryBackoff (${minRetryBackoffMs}ms), got ${maxRetryBackoffMs}ms`);
  }
  const enableTLS = readBool(props, 'enableTLS', false);
  const clientCert = readProperty(props, 'clientCert') || undefined;
  const clientKey = readProperty(props, 'clientKey') || undefined;
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new MetadataError(clientCert ? 'clientKey' : 'clientCert', 'clientCert and clientKey must be given together');
  }
  if (clientCert && !enableTLS) throw new MetadataError('clientCert', 'needs enableTLS: "true"');
  const password = readProperty(props, 'redisPassword') || undefined;
  const username = readProperty(props, 'redisUsername') || undefined;
  const dialTimeoutMs = readDurationMs(props, 'dialTimeout', 5000);
  // Dapr documents "-1" as "no read timeout"; the duration reader has no bare negative numbers.
  const readTimeoutMs = readProperty(props, 'readTimeout')?.trim() === '-1' ? 0 : readDurationMs(props, 'readTimeout', 3000);
  if (dialTimeoutMs < 0) throw new MetadataError('dialTimeout', 'must not be negative');
  return {
    host,
    port,
    ...(password ? { password } : {}),
    ...(username ? { username } : {}),
    db,
    enableTLS,
    ...(clientCert && clientKey ? { clientCert, clientKey } : {}),
    insecureSkipVerify: readBool(props, 'insecureSkipVerify', false),
    ...(ttlInSeconds !== undefined ? { ttlInSeconds } : {}),
    maxRetries,
    minRetryBackoffMs,
    maxRetryBackoffMs,
    dialTimeoutMs,
    readTimeoutMs: Math.max(0, readTimeoutMs),
    actorStateStore: readBool(props, 'actorStateStore', false),
    queryIndexesIgnored: (readProperty(props, 'queryIndexes') ?? '') !== '',
  };
}

/** ioredis connection options for parsed metadata (pure: importing it does not load ioredis). */
export function redisOptions(meta: RedisStateMetadata): RedisOptions {
  return {
    host: meta.host,
    port: meta.port,
    db: meta.db,
    ...(meta.password ? { password: meta.password } : {}),
    ...(meta.username ? { username: meta.username } : {}),
    ...(meta.enableTLS
      ? {
          tls: {
            rejectUnauthorized: !meta.insecureSkipVerify,
            ...(meta.clientCert && meta.clientKey ? { cert: meta.clientCert, key: meta.clientKey } : {}),
          },
        }
      : {}),
    connectTimeout: meta.dialTimeoutMs,
    ...(meta.readTimeoutMs > 0 ? { commandTimeout: meta.readTimeoutMs } : {}),
    maxRetriesPerRequest: meta.maxRetries,
    retryStrategy: (attempt) => Math.min(meta.minRetryBackoffMs * 2 ** Math.min(attempt, 16), meta.maxRetryBackoffMs),
    // Fail init instead of queueing commands forever when Redis is down at start-up.
    lazyConnect: true,
  };
}
