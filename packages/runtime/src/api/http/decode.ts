/**
 * Small decoders for JSON request bodies. Each names the offending field in Dapr's
 * `ERR_MALFORMED_REQUEST`, and none of them is slower than the JSON parse itself.
 */
import { commonErrors } from '../../errors/index.js';
import type { StateWriteOptions } from '../../components/state/store.js';

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An optional string field. */
export function optionalString(obj: JsonObject, field: string, where: string): string | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw commonErrors.malformedRequest(`${where}.${field} must be a string`);
  return value;
}

/** An optional `map<string,string>` field (numbers and booleans are accepted as their text). */
export function optionalStringMap(obj: JsonObject, field: string, where: string): Record<string, string> | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw commonErrors.malformedRequest(`${where}.${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw commonErrors.malformedRequest(`${where}.${field}.${k} must be a string`);
  }
  return out;
}

/** The optional `options` object of a state item. */
export function optionalWriteOptions(obj: JsonObject, where: string): StateWriteOptions | undefined {
  const value = obj['options'];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw commonErrors.malformedRequest(`${where}.options must be an object`);
  const concurrency = optionalString(value, 'concurrency', `${where}.options`);
  const consistency = optionalString(value, 'consistency', `${where}.options`);
  return {
    ...(concurrency ? { concurrency: concurrency as StateWriteOptions['concurrency'] } : {}),
    ...(consistency ? { consistency: consistency as StateWriteOptions['consistency'] } : {}),
  };
}

/** Serialises any JSON value to the bytes Dapr stores for it. */
export function jsonValueBytes(value: unknown): Buffer {
  return Buffer.from(value === undefined ? 'null' : JSON.stringify(value));
}

/**
 * Renders stored bytes as a JSON value for embedding in a reply: JSON stays as it was stored, any
 * other bytes become a JSON string (values saved raw over gRPC).
 */
export function embedStoredValue(data: Buffer): string {
  const text = data.toString('utf8');
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}
