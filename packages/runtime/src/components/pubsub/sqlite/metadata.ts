/** Metadata of `pubsub.sqlite`, the embedded durable default. */
import path from 'node:path';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readDurationMs, readString, requireString } from '../../metadata.js';

/** Parsed `pubsub.sqlite` metadata. */
export interface SqlitePubSubMetadata {
  /** Database file path (`file:` prefix and `?` options stripped; relative paths resolve beside the data dir). */
  filePath: string;
  /** Prefix of the three tables. @default 'pubsub_' */
  tablePrefix: string;
  /** How long a claimed message stays invisible to other consumers of its group without a heartbeat. @default 30000 */
  processingTimeoutMs: number;
  /** Delay before a message a handler gave back (`retry`) is delivered again. @default 1000 */
  redeliverIntervalMs: number;
  /** How often an idle subscription looks for messages other processes published. @default 50 */
  pollIntervalMs: number;
  /** Messages older than this are deleted even if some group never read them. @default 24h */
  retentionMs: number;
  /** How long a writer waits for another process's lock. @default 5000 */
  busyTimeoutMs: number;
}

/** Decodes and checks `pubsub.sqlite` metadata. */
export function parseSqlitePubSubMetadata(props: MetadataProperties, dataDir: string): SqlitePubSubMetadata {
  const raw = requireString(props, 'connectionString');
  let filePath = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  filePath = filePath.split('?')[0] ?? filePath;
  if (filePath === '') throw new MetadataError('connectionString', 'must name a database file');
  if (filePath !== ':memory:' && !path.isAbsolute(filePath)) filePath = path.resolve(dataDir, '..', filePath);
  const tablePrefix = readString(props, 'tablePrefix', 'pubsub_');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tablePrefix)) {
    throw new MetadataError('tablePrefix', `must be a plain SQL identifier, got "${tablePrefix}"`);
  }
  const meta: SqlitePubSubMetadata = {
    filePath,
    tablePrefix,
    processingTimeoutMs: readDurationMs(props, 'processingTimeout', 30_000),
    redeliverIntervalMs: readDurationMs(props, 'redeliverInterval', 1000),
    pollIntervalMs: readDurationMs(props, 'pollInterval', 50, 1),
    retentionMs: readDurationMs(props, 'retentionPeriod', 24 * 3_600_000),
    busyTimeoutMs: readDurationMs(props, 'busyTimeout', 5000),
  };
  if (meta.processingTimeoutMs < 100) throw new MetadataError('processingTimeout', 'must be at least 100ms');
  if (meta.pollIntervalMs < 1) throw new MetadataError('pollInterval', 'must be at least 1ms');
  return meta;
}
