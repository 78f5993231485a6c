/** Metadata of `state.sqlite`, named as Dapr's SQLite state store names it. */
import path from 'node:path';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readBool, readDurationMs, readString, requireString } from '../../metadata.js';

/** Parsed `state.sqlite` metadata. */
export interface SqliteStateMetadata {
  /** Database file path (a `file:` URI prefix and `?` options are stripped). */
  filePath: string;
  /** @default 'state' */
  tableName: string;
  /** Table of migration level and last-cleanup time, as Dapr keeps them. @default 'metadata' */
  metadataTableName: string;
  /** How long a writer waits for another process's lock. @default 2000 */
  busyTimeoutMs: number;
  /** How often expired rows are deleted; 0 disables (Dapr's default). @default 0 */
  cleanupIntervalMs: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readIdentifier(props: MetadataProperties, name: string, fallback: string): string {
  const value = readString(props, name, fallback);
  if (!IDENTIFIER.test(value)) throw new MetadataError(name, `must be a plain SQL identifier, got "${value}"`);
  return value;
}

/** Decodes and checks `state.sqlite` metadata. */
export function parseSqliteStateMetadata(props: MetadataProperties, dataDir: string): SqliteStateMetadata {
  const raw = requireString(props, 'connectionString');
  let filePath = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  filePath = filePath.split('?')[0] ?? filePath;
  if (filePath === '') throw new MetadataError('connectionString', 'must name a database file');
  if (filePath !== ':memory:' && !path.isAbsolute(filePath)) filePath = path.resolve(dataDir, '..', filePath);
  const tableName = readIdentifier(props, 'tableName', 'state');
  const metadataTableName = readIdentifier(props, 'metadataTableName', 'metadata');
  if (tableName.toLowerCase() === metadataTableName.toLowerCase()) {
    throw new MetadataError('metadataTableName', `must differ from tableName ("${tableName}")`);
  }
  // WAL is how several Weft processes share one file; turning it off is not offered.
  if (readBool(props, 'disableWAL', false)) throw new MetadataError('disableWAL', 'is not supported by Weft (the store always uses WAL)');
  return {
    filePath,
    tableName,
    metadataTableName,
    busyTimeoutMs: readDurationMs(props, 'busyTimeout', 2000),
    cleanupIntervalMs: Math.max(0, readDurationMs(props, 'cleanupInterval', readDurationMs(props, 'cleanupIntervalInSeconds', 0))),
  };
}
