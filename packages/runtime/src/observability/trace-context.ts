/**
 * W3C Trace Context (`traceparent` / `tracestate`): parsing, formatting and the sampling decision.
 * A valid incoming parent keeps its trace id and sampled flag; otherwise a new trace is sampled with
 * the Configuration's `samplingRate`.
 */
import { randomBytes } from 'node:crypto';

/** One span's identity. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
  traceState?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a `traceparent` header; undefined when absent or invalid (all-zero ids are invalid). */
export function parseTraceparent(header: string | undefined, traceState?: string): SpanContext | undefined {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, ...(traceState ? { traceState } : {}) };
}

/** Formats a `traceparent` header. */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/**
 * Random bytes drawn from a pool refilled 4 KB at a time: ids are made for every invocation, and one
 * `randomBytes` call per id cost more than the rest of the id's work (seen in a CPU profile).
 */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;
function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** A random span id. */
export const newSpanId = (): string => randomHex(8);
/** A random trace id. */
export const newTraceId = (): string => randomHex(16);

/** The context of a new child span: same trace, new span id; a new sampled-or-not trace without a parent. */
export function childContext(parent: SpanContext | undefined, samplingRate: number, random: () => number = Math.random): SpanContext {
  if (parent) return { ...parent, spanId: newSpanId() };
  return { traceId: newTraceId(), spanId: newSpanId(), sampled: samplingRate > 0 && random() < samplingRate };
}

/**
 * The OpenCensus binary trace context daprd reads from and writes to `grpc-trace-bin` metadata:
 * version 0, then field 0 (16-byte trace id), field 1 (8-byte span id), field 2 (1-byte options).
 */
export function toGrpcTraceBin(context: SpanContext): Buffer {
  const out = Buffer.alloc(29);
  out[0] = 0;
  out[1] = 0;
  Buffer.from(context.traceId, 'hex').copy(out, 2);
  out[18] = 1;
  Buffer.from(context.spanId, 'hex').copy(out, 19);
  out[27] = 2;
  out[28] = context.sampled ? 1 : 0;
  return out;
}

/** Reads `grpc-trace-bin`; undefined when malformed or all-zero (a missing options field means unsampled). */
export function fromGrpcTraceBin(bytes: Buffer | Uint8Array | undefined): SpanContext | undefined {
  if (!bytes || bytes.length < 27 || bytes[0] !== 0) return undefined;
  const buf = Buffer.from(bytes);
  if (buf[1] !== 0 || buf[18] !== 1) return undefined;
  const traceId = buf.subarray(2, 18).toString('hex');
  const spanId = buf.subarray(19, 27).toString('hex');
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  const sampled = buf.length >= 29 && buf[27] === 2 ? ((buf[28] ?? 0) & 1) === 1 : false;
  return { traceId, spanId, sampled };
}
