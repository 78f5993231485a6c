/**
 * Job data travels as `google.protobuf.Any`. The HTTP API wraps its JSON `data` in a
 * `google.protobuf.Value`, as Dapr does, so a job created over HTTP reads back the same over gRPC
 * and is delivered to the app as the original JSON. Encoding uses protobufjs's bundled
 * `struct.proto`, not a hand-written encoder.
 */
import type * as Protobuf from 'protobufjs';
import { lazyModule } from '../util/lazy-module.js';

/** A `google.protobuf.Any`. */
export interface AnyData {
  typeUrl: string;
  value: Buffer;
}

/** The type URL Dapr uses for JSON job data. */
export const VALUE_TYPE_URL = 'type.googleapis.com/google.protobuf.Value';

/** protobufjs, loaded by the first job with data rather than by every sidecar. */
const protobuf = lazyModule<typeof Protobuf>('protobufjs');
let valueType: Protobuf.Type | undefined;
/** `google.protobuf.Value`, from protobufjs's bundled well-known types. */
function valueMessageType(): Protobuf.Type {
  const { Root, common } = protobuf();
  return (valueType ??= Root.fromJSON(common.get('google/protobuf/struct.proto') ?? {}).lookupType('google.protobuf.Value'));
}

type ValueMessage =
  | { nullValue: 0 }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: { fields: Record<string, ValueMessage> } }
  | { listValue: { values: ValueMessage[] } };

function toValue(json: unknown): ValueMessage {
  if (json === null || json === undefined) return { nullValue: 0 };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map(toValue) } };
  const fields: Record<string, ValueMessage> = {};
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) fields[k] = toValue(v);
  return { structValue: { fields } };
}

function fromValue(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value['stringValue'];
  if ('numberValue' in value) return value['numberValue'];
  if ('boolValue' in value) return value['boolValue'];
  if ('listValue' in value) return ((value['listValue'] as { values?: Record<string, unknown>[] }).values ?? []).map(fromValue);
  if ('structValue' in value) {
    const fields = (value['structValue'] as { fields?: Record<string, Record<string, unknown>> }).fields ?? {};
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fromValue(v)]));
  }
  return null;
}

/** Wraps a JSON value as an Any holding a `google.protobuf.Value`. */
export function jsonToAny(json: unknown): AnyData {
  const ValueType = valueMessageType();
  const message = ValueType.fromObject(toValue(json));
  return { typeUrl: VALUE_TYPE_URL, value: Buffer.from(ValueType.encode(message).finish()) };
}

/** The JSON inside an Any holding a `google.protobuf.Value`; undefined for other types. */
export function anyToJson(data: AnyData): { json: unknown } | undefined {
  if (data.typeUrl !== VALUE_TYPE_URL) return undefined;
  const ValueType = valueMessageType();
  const decoded = ValueType.toObject(ValueType.decode(data.value), { defaults: false, oneofs: false }) as Record<string, unknown>;
  return { json: fromValue(decoded) };
}
