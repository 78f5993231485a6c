/** Picks the raw baseline client for a store. */
import type { StateClient } from '../clients.js';
import type { RawStoreConfig } from '../types.js';
import { rawPostgresClient } from './postgres.js';
import { rawRedisClient } from './redis.js';
import { rawSqliteClient } from './sqlite.js';

/** The store's own client library, doing what Weft's driver for it does. */
export async function rawClient(config: RawStoreConfig, valueBytes: number): Promise<StateClient> {
  switch (config.store) {
    case 'sqlite':
      return rawSqliteClient(required(config.filePath, 'filePath'), required(config.tableName, 'tableName'), valueBytes);
    case 'redis':
      return rawRedisClient(required(config.redisHost, 'redisHost'), required(config.redisPort, 'redisPort'), valueBytes);
    case 'postgres':
      return rawPostgresClient(required(config.connectionString, 'connectionString'), required(config.tableName, 'tableName'), valueBytes);
  }
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`raw store config lacks ${name}`);
  return value;
}
