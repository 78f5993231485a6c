/**
 * Typed readers for a component's `spec.metadata` (a flat name → string map once resolved). Every
 * driver parses its metadata through these so a bad value fails start-up with the field's name and
 * what was expected (STYLE.md #2: defaults, then decode, then cross-field checks).
 */
import { DurationError, parseDuration } from '../util/duration.js';

/** Resolved component metadata: names as written in YAML, values as strings. */
export type MetadataProperties = Readonly<Record<string, string>>;

/** Thrown when a metadata value is missing or cannot be decoded. */
export class MetadataError extends Error {
  constructor(readonly field: string, message: string) {
    super(`metadata field "${field}": ${message}`);
    this.name = 'MetadataError';
  }
}

/** Names (lower case) read from each tracked property map; see {@link trackMetadataReads}. */
const reads = new WeakMap<object, Set<string>>();

/**
 * Starts recording which fields are read from `props` (by {@link readProperty} and the readers built
 * on it), so fields a component was given but never looked at can be reported instead of silently
 * doing nothing. Returns the live set of names read, lower-cased.
 */
export function trackMetadataReads(props: MetadataProperties): ReadonlySet<string> {
  const names = reads.get(props) ?? new Set<string>();
  reads.set(props, names);
  return names;
}

/** Looks a property up case-insensitively, as Dapr's metadata decoder does. */
export function readProperty(props: MetadataProperties, name: string): string | undefined {
  reads.get(props)?.add(name.toLowerCase());
  if (Object.hasOwn(props, name)) return props[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(props)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/** A required string property. */
export function requireString(props: MetadataProperties, name: string): string {
  const value = readProperty(props, name);
  if (value === undefined || value === '') throw new MetadataError(name, 'is required');
  return value;
}

/** An optional string property with a default. */
export function readString(props: MetadataProperties, name: string, fallback: string): string {
  const value = readProperty(props, name);
  return value === undefined || value === '' ? fallback : value;
}

/** An optional integer property with a default. */
export function readInt(props: MetadataProperties, name: string, fallback: number): number {
  const value = readProperty(props, name);
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new MetadataError(name, `expected an integer, got "${value}"`);
  return parsed;
}

/** An optional boolean property ("true"/"false"/"1"/"0"/"yes"/"no") with a default. */
export function readBool(props: MetadataProperties, name: string, fallback: boolean): boolean {
  const value = readProperty(props, name);
  if (value === undefined || value === '') return fallback;
  switch (value.trim().toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
    case 'y':
    case 'on':
      return true;
    case 'false':
    case '0':
    case 'no':
    case 'n':
    case 'off':
      return false;
    default:
      throw new MetadataError(name, `expected a boolean, got "${value}"`);
  }
}

/** An optional duration property (Go duration, ISO-8601, or a bare number of `bareUnitMs`). */
export function readDurationMs(props: MetadataProperties, name: string, fallbackMs: number, bareUnitMs = 1000): number {
  const value = readProperty(props, name);
  if (value === undefined || value === '') return fallbackMs;
  try {
    return parseDuration(name, value, { bareUnitMs, minMs: -Infinity });
  } catch (err) {
    if (err instanceof DurationError) throw new MetadataError(name, err.message.slice(name.length + 2));
    throw err;
  }
}

/** An optional property restricted to a fixed set of values. */
export function readEnum<T extends string>(props: MetadataProperties, name: string, allowed: readonly T[], fallback: T): T {
  const value = readProperty(props, name);
  if (value === undefined || value === '') return fallback;
  const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!match) throw new MetadataError(name, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return match;
}
