/**
 * The Jobs API's JSON shape (protojson of `dapr.proto.runtime.v1.Job`: camelCase or snake_case) to
 * and from {@link JobSpec}. The HTTP body's `data` is any JSON; it is stored as a
 * `google.protobuf.Value` inside an Any, and `GET` renders it back in protojson's Any form.
 */
import { commonErrors, jobErrors } from '../errors/index.js';
import { formatDurationMs, parseDurationMs } from '../util/duration.js';
import { anyToJson, jsonToAny } from './any-value.js';
import type { FailurePolicy, JobRecord, JobSpec } from './job.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(body: Record<string, unknown>, camel: string, snake: string): unknown {
  return body[camel] ?? body[snake];
}

function optionalString(body: Record<string, unknown>, camel: string, snake: string): string | undefined {
  const value = field(body, camel, snake);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw commonErrors.malformedRequest(`${camel} must be a string`);
  return value;
}

/** Decodes a protojson `JobFailurePolicy`. */
export function decodeFailurePolicy(raw: unknown): FailurePolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw commonErrors.malformedRequest('failurePolicy must be an object');
  if (isRecord(raw['drop'])) return { kind: 'drop' };
  const constant = raw['constant'];
  if (!isRecord(constant)) throw commonErrors.malformedRequest('failurePolicy must have "drop" or "constant"');
  const intervalText = constant['interval'];
  const intervalMs = typeof intervalText === 'string' ? parseDurationMs(intervalText) : 0;
  if (intervalMs === undefined) throw commonErrors.malformedRequest(`failurePolicy.constant.interval "${String(intervalText)}" is not a duration`);
  const maxRetries = constant['maxRetries'] ?? constant['max_retries'];
  if (maxRetries !== undefined && !(Number.isInteger(Number(maxRetries)) && Number(maxRetries) >= 0)) {
    throw commonErrors.malformedRequest('failurePolicy.constant.maxRetries must be a whole number');
  }
  return { kind: 'constant', intervalMs, ...(maxRetries !== undefined ? { maxRetries: Number(maxRetries) } : {}) };
}

/** Decodes the body of `POST /v1.0-alpha1/jobs/{name}`; returns the spec and `overwrite`. */
export function decodeJobBody(name: string, body: Buffer, errMeta: Record<string, string>): { spec: JobSpec; overwrite: boolean } {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw commonErrors.malformedRequest(`failed deserializing HTTP body: ${(err as Error).message}`);
  }
  if (parsed === undefined || parsed === null) throw jobErrors.jobEmpty(errMeta);
  if (!isRecord(parsed)) throw commonErrors.malformedRequest('failed deserializing HTTP body: expected a JSON object');
  if (parsed['name'] !== undefined && parsed['name'] !== '') throw jobErrors.nameInBody(errMeta);
  const schedule = optionalString(parsed, 'schedule', 'schedule');
  const dueTime = optionalString(parsed, 'dueTime', 'due_time');
  const ttl = optionalString(parsed, 'ttl', 'ttl');
  const repeatsRaw = parsed['repeats'];
  if (repeatsRaw !== undefined && !(Number.isInteger(Number(repeatsRaw)) && Number(repeatsRaw) >= 0)) {
    throw commonErrors.malformedRequest('repeats must be a whole number');
  }
  if (schedule === undefined && dueTime === undefined) throw jobErrors.scheduleEmpty(errMeta);
  const failurePolicy = decodeFailurePolicy(field(parsed, 'failurePolicy', 'failure_policy'));
  const spec: JobSpec = {
    name,
    ...(schedule !== undefined ? { schedule } : {}),
    ...(dueTime !== undefined ? { dueTime } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(repeatsRaw !== undefined ? { repeats: Number(repeatsRaw) } : {}),
    ...('data' in parsed ? { data: jsonToAny(parsed['data']) } : {}),
    ...(failurePolicy ? { failurePolicy } : {}),
  };
  return { spec, overwrite: parsed['overwrite'] === true };
}

/** Renders a failure policy as protojson. */
export function encodeFailurePolicy(policy: FailurePolicy): Record<string, unknown> {
  if (policy.kind === 'drop') return { drop: {} };
  return { constant: { interval: formatDurationMs(policy.intervalMs), ...(policy.maxRetries !== undefined ? { maxRetries: policy.maxRetries } : {}) } };
}

/** The `GET /v1.0-alpha1/jobs/{name}` body. */
export function encodeJob(record: JobRecord): Record<string, unknown> {
  const { spec } = record;
  let data: unknown;
  if (spec.data) {
    const json = anyToJson(spec.data);
    data = json ? { '@type': spec.data.typeUrl, value: json.json } : { '@type': spec.data.typeUrl, value: spec.data.value.toString('base64') };
  }
  return {
    name: spec.name,
    ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
    ...(spec.repeats !== undefined ? { repeats: spec.repeats } : {}),
    ...(spec.dueTime !== undefined ? { dueTime: spec.dueTime } : {}),
    ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
    ...(data !== undefined ? { data } : {}),
    ...(spec.failurePolicy ? { failurePolicy: encodeFailurePolicy(spec.failurePolicy) } : {}),
  };
}
