/**
 * Metadata of `state.postgresql` (v1 and v2), named as Dapr's PostgreSQL state stores name it.
 * `connectionString` is either a URL (`postgres://user:pw@host:5432/db?sslmode=...`) or the
 * keyword/value form Dapr's docs show (`host=localhost user=postgres password=x port=5432 database=db`).
 */
import type { ClientConfig } from 'pg';
import type { MetadataProperties } from '../../metadata.js';
import { parsePostgresConnection } from '../../../util/postgres-connection.js';
import { MetadataError, readBool, readDurationMs, readInt, readProperty, readString, requireString } from '../../metadata.js';

/** Parsed `state.postgresql` metadata. */
export interface PostgresStateMetadata {
  /** Connection settings for `pg`, decoded from `connectionString`. */
  connection: ClientConfig;
  /**
   * Table holding the state; `name` or `schema.name`. v1 reads `tableName` (default `state`); v2, as
   * Dapr's v2, names it `<tablePrefix>state`.
   */
  tableName: string;
  /** v2's `tablePrefix` (empty for v1); part of v2's migration and cleanup keys. */
  tablePrefix: string;
  /** Table holding Dapr's bookkeeping (migration level, last cleanup time). @default 'dapr_metadata' */
  metadataTableName: string;
  /** Timeout of each database statement. @default 20000 */
  timeoutMs: number;
  /** How often expired rows are deleted; 0 disables. @default 3600000 */
  cleanupIntervalMs: number;
  /** Largest number of pooled connections. @default 10 */
  maxConns: number;
  /** Whether this store holds actor state (reported by the metadata API). @default false */
  actorStateStore: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/** Decodes a connection string in either form into `pg` settings (see {@link parsePostgresConnection}). */
export function parseConnectionString(text: string): ClientConfig {
  return parsePostgresConnection(text, 'connectionString');
}

function readIdentifier(props: MetadataProperties, name: string, fallback: string): string {
  const value = readString(props, name, fallback);
  if (!IDENTIFIER.test(value)) {
    throw new MetadataError(name, `must be a SQL identifier (letters, digits, _; optionally "schema.table"), got "${value}"`);
  }
  return value;
}

/** Decodes and checks `state.postgresql` metadata (v1 unless `version` says otherwise). */
export function parsePostgresStateMetadata(props: MetadataProperties, version: 'v1' | 'v2' = 'v1'): PostgresStateMetadata {
  const connection = parseConnectionString(requireString(props, 'connectionString'));
  let tableName: string;
  let tablePrefix = '';
  if (version === 'v2') {
    // Dapr's v2 has no tableName: its table is always `<tablePrefix>state`.
    if (readProperty(props, 'tableName') !== undefined) {
      throw new MetadataError('tableName', 'is not a state.postgresql v2 field (v2 names its table "<tablePrefix>state"); set tablePrefix, or use version v1');
    }
    tablePrefix = readString(props, 'tablePrefix', '');
    tableName = `${tablePrefix}state`;
    if (!IDENTIFIER.test(tableName)) {
      throw new MetadataError('tablePrefix', `must make "<tablePrefix>state" a SQL identifier (optionally "schema.prefix"), got "${tablePrefix}"`);
    }
  } else {
    if (readProperty(props, 'tablePrefix') !== undefined) {
      throw new MetadataError('tablePrefix', 'is a state.postgresql v2 field; v1 takes tableName');
    }
    tableName = readIdentifier(props, 'tableName', 'state');
  }
  const metadataTableName = readIdentifier(props, 'metadataTableName', 'dapr_metadata');
  if (tableName.toLowerCase() === metadataTableName.toLowerCase()) {
    throw new MetadataError('metadataTableName', `must differ from tableName ("${tableName}")`);
  }
  // Dapr v1 still reads the older `timeoutInSeconds` and `cleanupIntervalInSeconds` spellings.
  const timeoutMs = readDurationMs(props, 'timeout', readDurationMs(props, 'timeoutInSeconds', 20_000));
  if (timeoutMs <= 0) throw new MetadataError('timeout', 'must be a positive duration');
  const cleanupIntervalMs = readDurationMs(props, 'cleanupInterval', readDurationMs(props, 'cleanupIntervalInSeconds', 3_600_000));
  const maxConns = readInt(props, 'maxConns', 10);
  if (maxConns < 1) throw new MetadataError('maxConns', `must be 1 or more, got ${maxConns}`);
  const actorStateStore = readBool(props, 'actorStateStore', false);
  if (readProperty(props, 'useAzureAD') === 'true' || readProperty(props, 'useAWSIAM') === 'true') {
    throw new MetadataError('connectionString', 'Azure AD and AWS IAM authentication are not supported by Weft');
  }
  return {
    connection,
    tableName,
    tablePrefix,
    metadataTableName,
    timeoutMs,
    // Dapr disables cleanup with 0 or a negative interval.
    cleanupIntervalMs: Math.max(0, cleanupIntervalMs),
    maxConns,
    actorStateStore,
  };
}
