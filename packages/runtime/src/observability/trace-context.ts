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

/** A random span id. */
export const newSpanId = (): string => randomBytes(8).toString('hex');
/** A random trace id. */
export const newTraceId = (): string => randomBytes(16).toString('hex');

/** The context of a new child span: same trace, new span id; a new sampled-or-not trace without a parent. */
export function childContext(parent: SpanContext | undefined, samplingRate: number, random: () => number = Math.random): SpanContext {
  if (parent) return { ...parent, spanId: newSpanId() };
  return { traceId: newTraceId(), spanId: newSpanId(), sampled: samplingRate > 0 && random() < samplingRate };
}
