/**
 * The exporters behind the Configuration's `tracing` section. Loaded only through a dynamic import
 * from `tracing.ts` when the first batch of spans is flushed: nothing here (nor the OpenTelemetry
 * packages it imports) is loaded by a sidecar that does not trace.
 *
 * Zipkin, OTLP/HTTP and OTLP/gRPC are the official OpenTelemetry exporters (encodings, retries,
 * timeouts and TLS are theirs); Weft's span records are presented to them as `ReadableSpan`s.
 * `stdout` logs one line per span in daprd's format (`[name] Trace: … Span: parent/id Time: …`)
 * through the sidecar's logger, as daprd's stdout exporter does, so it follows `--log-as-json`.
 */
import * as grpc from '@grpc/grpc-js';
import type { Attributes, HrTime, SpanContext as OtelSpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpHttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter as OtelSpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../logging/logger.js';
import type { ExporterSettings, SpanExporter, SpanKind, SpanRecord } from './span-record.js';

/** `@opentelemetry/api`'s SpanKind numbers (the enum itself is not needed at run time). */
const OTEL_KIND: Record<SpanKind, number> = { INTERNAL: 0, SERVER: 1, CLIENT: 2, PRODUCER: 3, CONSUMER: 4 };
/** `SpanStatusCode`: UNSET 0, ERROR 2. */
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;
const SCOPE = { name: 'weft' };

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** A span record as the OpenTelemetry exporters read spans. */
export function toReadableSpan(span: SpanRecord, resource: Resource): ReadableSpan {
  const context: OtelSpanContext = {
    traceId: span.context.traceId,
    spanId: span.context.spanId,
    traceFlags: span.context.sampled ? 1 : 0,
  };
  const parent: OtelSpanContext | undefined = span.parentSpanId
    ? { traceId: span.context.traceId, spanId: span.parentSpanId, traceFlags: context.traceFlags, isRemote: true }
    : undefined;
  return {
    name: span.name,
    kind: OTEL_KIND[span.kind],
    spanContext: () => context,
    ...(parent ? { parentSpanContext: parent } : {}),
    startTime: hrTime(span.startMs),
    endTime: hrTime(span.startMs + span.durationMs),
    duration: hrTime(span.durationMs),
    status: span.error ? { code: STATUS_ERROR, ...(span.statusMessage ? { message: span.statusMessage } : {}) } : { code: STATUS_UNSET },
    attributes: span.attributes as Attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as ReadableSpan;
}

/** Adapts an OpenTelemetry exporter (callback style, `ReadableSpan`s) to Weft's. */
class OfficialExporter implements SpanExporter {
  constructor(
    private readonly inner: OtelSpanExporter,
    private readonly resource: Resource,
    private readonly what: string,
  ) {}

  export(spans: readonly SpanRecord[]): Promise<void> {
    const readable = spans.map((s) => toReadableSpan(s, this.resource));
    return new Promise((resolve, reject) => {
      this.inner.export(readable, (result) => {
        // ExportResultCode.SUCCESS is 0.
        if (result.code === 0) resolve();
        else reject(new Error(`${this.what}: ${result.error?.message ?? 'export failed'}`));
      });
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** daprd's stdout exporter: one info line per span on the `weft.runtime.trace` logger. */
export class StdoutSpanExporter implements SpanExporter {
  constructor(private readonly logger: Logger) {}

  export(spans: readonly SpanRecord[]): Promise<void> {
    for (const s of spans) {
      const start = new Date(s.startMs).toISOString();
      const end = new Date(s.startMs + s.durationMs).toISOString();
      this.logger.info(`[${s.name}] Trace: ${s.context.traceId} Span: ${s.parentSpanId ?? '0000000000000000'}/${s.context.spanId} Time: [${start} ->  ${end}] Annotations: []`);
    }
    return Promise.resolve();
  }
}

/** `host:port` or a URL; without a scheme, `isSecure` picks `https` or `http`. */
function withScheme(endpoint: string, isSecure: boolean): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${isSecure ? 'https' : 'http'}://${endpoint}`;
}

/** The OTLP/HTTP traces URL: `<endpoint>/v1/traces`, as the OTLP exporters of daprd use. */
export function otlpHttpUrl(endpoint: string, isSecure: boolean): string {
  const base = withScheme(endpoint, isSecure);
  return base.endsWith('/v1/traces') ? base : `${base.replace(/\/$/, '')}/v1/traces`;
}

/** The exporters the `tracing` settings ask for. */
export function createExporters(settings: ExporterSettings): Promise<SpanExporter[]> {
  const { tracing, serviceName, logger } = settings;
  const resource = resourceFromAttributes({ 'service.name': serviceName });
  const exporters: SpanExporter[] = [];
  if (tracing.stdout) exporters.push(new StdoutSpanExporter(logger.child('weft.runtime.trace')));
  if (tracing.zipkinEndpoint) {
    exporters.push(new OfficialExporter(new ZipkinExporter({ url: tracing.zipkinEndpoint, serviceName }), resource, 'zipkin'));
  }
  const otel = tracing.otel;
  if (otel?.protocol === 'http') {
    const exporter = new OtlpHttpTraceExporter({ url: otlpHttpUrl(otel.endpointAddress, otel.isSecure), headers: otel.headers, timeoutMillis: otel.timeoutMs });
    exporters.push(new OfficialExporter(exporter, resource, 'OTLP/HTTP'));
  } else if (otel) {
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(otel.headers)) metadata.set(name.toLowerCase(), value);
    const exporter = new OtlpGrpcTraceExporter({
      url: withScheme(otel.endpointAddress, otel.isSecure),
      credentials: otel.isSecure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      metadata,
      timeoutMillis: otel.timeoutMs,
    });
    exporters.push(new OfficialExporter(exporter, resource, 'OTLP/gRPC'));
  }
  return Promise.resolve(exporters);
}
