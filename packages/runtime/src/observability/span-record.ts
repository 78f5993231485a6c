/**
 * The span record Weft keeps and what exporters receive; shared by `tracing.ts` and the lazily
 * loaded `trace-exporters.ts` (kept apart so neither imports the other).
 */
import type { Logger } from '../logging/logger.js';
import type { WeftConfiguration } from '../config/configuration.js';
import type { SpanContext } from './trace-context.js';

/** Span kinds, as OpenTelemetry names them. */
export type SpanKind = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/** A span attribute value. */
export type AttributeValue = string | number | boolean;

/** A finished span. */
export interface SpanRecord {
  name: string;
  context: SpanContext;
  parentSpanId?: string;
  kind: SpanKind;
  /** Wall-clock start, epoch milliseconds (fractional). */
  startMs: number;
  durationMs: number;
  attributes: Record<string, AttributeValue>;
  /** Status ERROR; otherwise UNSET, as daprd leaves successful spans. */
  error: boolean;
  /** The status description of an error, e.g. `Code(404): Not Found`. */
  statusMessage?: string;
}

/** Sends spans somewhere. */
export interface SpanExporter {
  export(spans: readonly SpanRecord[]): Promise<void>;
  shutdown?(): Promise<void>;
}

/** Exporter settings from the Configuration, with the service name spans are reported under. */
export interface ExporterSettings {
  serviceName: string;
  tracing: WeftConfiguration['tracing'];
  logger: Logger;
}

