/** Metadata of `state.sqlite`, named as Dapr's SQLite state store names it. */
import path from 'node:path';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readDurationMs, readString, requireString } from '../../metadata.js';

/** Parsed `state.sqlite` metadata. */
export interface SqliteStateMetadata {
  /** Database file path (a `file:` URI prefix and `?` options are stripped). */
  filePath: string;
  /** @default 'state' */
  tableName: string;
  /** How long a writer waits for another process's lock. @default 2000 */
  busyTimeoutMs: number;
  /** How often expired rows are deleted; 0 disables. @default 3600000 */
  cleanupIntervalMs: number;
}

/** Decodes and checks `state.sqlite` metadata. */
export function parseSqliteStateMetadata(props: MetadataProperties, dataDir: string): SqliteStateMetadata {
  const raw = requireString(props, 'connectionString');
  let filePath = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  filePath = filePath.split('?')[0] ?? filePath;
  if (filePath === '' ) throw new MetadataError('connectionString', 'must name a database file');
  if (filePath !== ':memory:' && !path.isAbsolute(filePath)) filePath = path.resolve(dataDir, '..', filePath);
  const tableName = readString(props, 'tableName', 'state');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tableName)) {
    throw new MetadataError('tableName', `must be a plain SQL identifier, got "${tableName}"`);
  }
  return {
    filePath,
    tableName,
    busyTimeoutMs: readDurationMs(props, 'busyTimeout', 2000),
    cleanupIntervalMs: readDurationMs(props, 'cleanupInterval', 3_600_000),
  };
}
