import { describe, expect, it } from 'vitest';
import { MetadataError } from '../../metadata.js';
import { parseRedisStateMetadata } from './metadata.js';
import { redisOptions } from './metadata.js';

function fieldOf(props: Record<string, string>): string {
  try {
    parseRedisStateMetadata(props);
  } catch (err) {
    expect(err).toBeInstanceOf(MetadataError);
    return (err as MetadataError).field;
  }
  throw new Error('expected a MetadataError');
}

describe('parseRedisStateMetadata', () => {
  it('applies Dapr defaults when only redisHost is given', () => {
    expect(parseRedisStateMetadata({ redisHost: 'cache:6380' })).toEqual({
      host: 'cache',
      port: 6380,
      db: 0,
      enableTLS: false,
      insecureSkipVerify: false,
      maxRetries: 3,
      minRetryBackoffMs: 8,
      maxRetryBackoffMs: 2000,
      dialTimeoutMs: 5000,
      readTimeoutMs: 3000,
      actorStateStore: false,
      queryIndexesIgnored: false,
    });
  });

  it('reads credentials, database, TLS, TTL and timeouts under Dapr names, case-insensitively', () => {
    const meta = parseRedisStateMetadata({
      redishost: '[::1]:7000',
      redisPassword: 'pw',
      redisUsername: 'app',
      redisDB: '3',
      enableTLS: 'true',
      ttlInSeconds: '60',
      maxRetries: '5',
      maxRetryBackoff: '5s',
      dialTimeout: '250ms',
      readTimeout: '-1',
      actorStateStore: 'true',
    });
    expect(meta).toMatchObject({
      host: '::1',
      port: 7000,
      password: 'pw',
      username: 'app',
      db: 3,
      enableTLS: true,
      ttlInSeconds: 60,
      maxRetries: 5,
      maxRetryBackoffMs: 5000,
      dialTimeoutMs: 250,
      readTimeoutMs: 0,
      actorStateStore: true,
    });
  });

  it('defaults the port to 6379 and treats ttlInSeconds -1 as no store-wide TTL', () => {
    const meta = parseRedisStateMetadata({ redisHost: 'localhost', ttlInSeconds: '-1' });
    expect(meta.port).toBe(6379);
    expect(meta.ttlInSeconds).toBeUndefined();
  });

  it('names the field of each invalid value', () => {
    expect(fieldOf({})).toBe('redisHost');
    expect(fieldOf({ redisHost: 'h:99999' })).toBe('redisHost');
    expect(fieldOf({ redisHost: 'a:1,b:2' })).toBe('redisHost');
    expect(fieldOf({ redisHost: 'h', redisDB: 'one' })).toBe('redisDB');
    expect(fieldOf({ redisHost: 'h', redisDB: '-1' })).toBe('redisDB');
    expect(fieldOf({ redisHost: 'h', ttlInSeconds: '-5' })).toBe('ttlInSeconds');
    expect(fieldOf({ redisHost: 'h', enableTLS: 'maybe' })).toBe('enableTLS');
    expect(fieldOf({ redisHost: 'h', redisType: 'cluster' })).toBe('redisType');
    expect(fieldOf({ redisHost: 'h', failover: 'true' })).toBe('failover');
    expect(fieldOf({ redisHost: 'h', dialTimeout: 'soon' })).toBe('dialTimeout');
    expect(fieldOf({ redisHost: 'h', minRetryBackoff: '3s', maxRetryBackoff: '1s' })).toBe('maxRetryBackoff');
    expect(fieldOf({ redisHost: 'h', enableTLS: 'true', clientCert: 'pem' })).toBe('clientKey');
    expect(fieldOf({ redisHost: 'h', clientCert: 'pem', clientKey: 'pem' })).toBe('clientCert');
  });

  it('notes queryIndexes, which needs RediSearch, as ignored rather than failing', () => {
    expect(parseRedisStateMetadata({ redisHost: 'h', queryIndexes: '[{"name":"i"}]' }).queryIndexesIgnored).toBe(true);
  });
});

describe('redisOptions', () => {
  it('maps metadata to ioredis options, with TLS only when enabled', () => {
    const plain = redisOptions(parseRedisStateMetadata({ redisHost: 'h:1', redisDB: '2', readTimeout: '0' }));
    expect(plain).toMatchObject({ host: 'h', port: 1, db: 2, connectTimeout: 5000, maxRetriesPerRequest: 3, lazyConnect: true });
    expect(plain.tls).toBeUndefined();
    expect(plain.commandTimeout).toBeUndefined();
    const tls = redisOptions(parseRedisStateMetadata({ redisHost: 'h', enableTLS: 'true', insecureSkipVerify: 'true' }));
    expect(tls.tls).toEqual({ rejectUnauthorized: false });
  });

  it('backs off exponentially between reconnects, capped by maxRetryBackoff', () => {
    const options = redisOptions(parseRedisStateMetadata({ redisHost: 'h', minRetryBackoff: '100ms', maxRetryBackoff: '1s' }));
    const delay = (attempt: number) => options.retryStrategy?.(attempt);
    expect(delay(1)).toBe(200);
    expect(delay(2)).toBe(400);
    expect(delay(10)).toBe(1000);
  });
});
