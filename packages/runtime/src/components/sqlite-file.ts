/**
 * The `connectionString` of Weft's embedded SQLite components (`*.sqlite`): a file path, optionally
 * with a `file:` prefix and `?` options (stripped), relative paths resolved against the data
 * directory's parent (the app's directory), as `state.sqlite` reads it.
 */
import path from 'node:path';
import type { MetadataProperties } from './metadata.js';
import { MetadataError, readString, requireString } from './metadata.js';

/** The database file a `connectionString` names. */
export function readSqliteFile(props: MetadataProperties, dataDir: string): string {
  const raw = requireString(props, 'connectionString');
  let filePath = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  filePath = filePath.split('?')[0] ?? filePath;
  if (filePath === '') throw new MetadataError('connectionString', 'must name a database file');
  if (filePath !== ':memory:' && !path.isAbsolute(filePath)) filePath = path.resolve(dataDir, '..', filePath);
  return filePath;
}

/** A plain SQL identifier property (letters, digits, `_`). */
export function readSqlIdentifier(props: MetadataProperties, name: string, fallback: string): string {
  const value = readString(props, name, fallback);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) throw new MetadataError(name, `must be a plain SQL identifier (letters, digits, _), got "${value}"`);
  return value;
}
