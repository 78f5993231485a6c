/**
 * Connecting to Redis at start-up, the same way for every Redis component: one attempt (no retry
 * loop while the sidecar starts), errors caught (never "Unhandled error event"), the client closed on
 * failure, and an error that says what was tried: `cannot reach Redis at redis:6379: host not found`.
 * Once connected, the component's own reconnect strategy applies.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { describeNetworkError } from '../util/network-error.js';

/** Opens a connected ioredis client or throws `cannot reach Redis at host:port: reason`. */
export async function connectRedis(options: RedisOptions, logger: Logger, prepare?: (client: Redis) => void, signal?: AbortSignal): Promise<Redis> {
  const target = `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
  const retryStrategy = options.retryStrategy ?? ((attempt: number) => Math.min(attempt * 50, 2000));
  let firstError: unknown;
  const client = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', (err: Error) => {
    firstError ??= err;
    logger.debug(`redis connection error (${target}): ${err.message}`);
  });
  prepare?.(client);
  // A server that accepts and never answers would hold connect() open past any initTimeout.
  const abort = () => client.disconnect();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    if (signal?.aborted) throw new Error('init was abandoned');
    await client.connect();
    await client.ping();
    if (signal?.aborted) throw new Error('init was abandoned');
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${target}: ${describeNetworkError(firstError ?? err)}`);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  // Connected: from now on, reconnect and retry as the component's settings say.
  client.options.retryStrategy = retryStrategy;
  client.options.maxRetriesPerRequest = options.maxRetriesPerRequest ?? 20;
  return client;
}
