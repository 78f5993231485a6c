import { describe, expect, it } from 'vitest';
import { MetadataError } from '../../metadata.js';
import { parseConnectionString, parsePostgresStateMetadata } from './metadata.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';

function fieldOf(props: Record<string, string>): string {
  try {
    parsePostgresStateMetadata(props);
  } catch (err) {
    expect(err).toBeInstanceOf(MetadataError);
    return (err as MetadataError).field;
  }
  throw new Error('expected a MetadataError');
}

describe('parsePostgresStateMetadata', () => {
  it('applies Dapr defaults when only connectionString is given', () => {
    expect(parsePostgresStateMetadata({ connectionString: URL })).toEqual({
      connection: { connectionString: URL },
      tableName: 'state',
      tablePrefix: '',
      metadataTableName: 'dapr_metadata',
      timeoutMs: 20_000,
      cleanupIntervalMs: 3_600_000,
      maxConns: 10,
      actorStateStore: false,
    });
  });

  it('reads tables, durations (bare numbers are seconds) and pool size under Dapr names', () => {
    const meta = parsePostgresStateMetadata({
      connectionString: URL,
      tableName: 'app.kv',
      metadataTableName: 'app_meta',
      timeout: '5',
      cleanupInterval: '10m',
      maxConns: '4',
      actorStateStore: 'true',
    });
    expect(meta).toMatchObject({ tableName: 'app.kv', metadataTableName: 'app_meta', timeoutMs: 5000, cleanupIntervalMs: 600_000, maxConns: 4, actorStateStore: true });
  });

  it('accepts the older timeoutInSeconds and cleanupIntervalInSeconds, and disables cleanup with a negative interval', () => {
    const meta = parsePostgresStateMetadata({ connectionString: URL, timeoutInSeconds: '7', cleanupIntervalInSeconds: '-1s' });
    expect(meta.timeoutMs).toBe(7000);
    expect(meta.cleanupIntervalMs).toBe(0);
  });

  it('names the field of each invalid value', () => {
    expect(fieldOf({})).toBe('connectionString');
    expect(fieldOf({ connectionString: 'not a connection string' })).toBe('connectionString');
    expect(fieldOf({ connectionString: URL, tableName: 'state; DROP TABLE x' })).toBe('tableName');
    expect(fieldOf({ connectionString: URL, tableName: 'a.b.c' })).toBe('tableName');
    expect(fieldOf({ connectionString: URL, metadataTableName: '1meta' })).toBe('metadataTableName');
    expect(fieldOf({ connectionString: URL, tableName: 'same', metadataTableName: 'SAME' })).toBe('metadataTableName');
    expect(fieldOf({ connectionString: URL, timeout: '0' })).toBe('timeout');
    expect(fieldOf({ connectionString: URL, maxConns: '0' })).toBe('maxConns');
    expect(fieldOf({ connectionString: URL, cleanupInterval: 'hourly' })).toBe('cleanupInterval');
  });
});

describe('parseConnectionString', () => {
  it('passes a postgres:// URL to pg as is', () => {
    expect(parseConnectionString(` ${URL}?sslmode=disable `)).toEqual({ connectionString: `${URL}?sslmode=disable` });
  });

  it('reads the keyword/value form, with quoted values and escapes', () => {
    expect(
      parseConnectionString("host=db.local port=6543 user=dapr password='p w\\'x' dbname=state sslmode=require connect_timeout=3 pool_max_conns=9"),
    ).toEqual({
      host: 'db.local',
      port: 6543,
      user: 'dapr',
      password: "p w'x",
      database: 'state',
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 3000,
    });
    expect(parseConnectionString('host=h database=d sslmode=disable')).toEqual({ host: 'h', database: 'd', ssl: false });
  });

  it('rejects text that is neither form, and a bad port', () => {
    expect(() => parseConnectionString('host=h oops')).toThrow(MetadataError);
    expect(() => parseConnectionString('port=0')).toThrow('port must be 1-65535');
  });
});
