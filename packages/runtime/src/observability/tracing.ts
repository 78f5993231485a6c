/**
 * Server spans for the HTTP API, exported to Zipkin (v2 JSON) and to an OpenTelemetry collector
 * over OTLP/HTTP (JSON encoding), as the Configuration's `tracing` section asks. Spans are batched
 * and sent in the background; an unreachable collector is logged once, never fails a request.
 *
 * Seam for invocation and pub/sub: a handler reads the server span's context from the request's
 * `traceparent` header (the server replaces it with the span's own), and sends it onwards.
 * Not here yet: OTLP over gRPC (logged as unsupported), `stdout` exporting, client spans.
 */
import type { Logger } from '../logging/logger.js';
import type { WeftConfiguration } from '../config/configuration.js';
import { childContext, formatTraceparent, parseTraceparent } from './trace-context.js';
import type { SpanContext } from './trace-context.js';

/** A finished span. */
export interface SpanRecord {
  name: string;
  context: SpanContext;
  parentSpanId?: string;
  kind: 'SERVER' | 'CLIENT';
  startMs: number;
  durationMs: number;
  attributes: Record<string, string>;
  error: boolean;
}

/** Sends spans somewhere. */
export interface SpanExporter {
  export(spans: readonly SpanRecord[]): Promise<void>;
}

/** Zipkin v2 JSON over HTTP. */
export class ZipkinExporter implements SpanExporter {
  constructor(private readonly endpoint: string, private readonly serviceName: string) {}
  async export(spans: readonly SpanRecord[]): Promise<void> {
    const body = spans.map((s) => ({
      traceId: s.context.traceId,
      id: s.context.spanId,
      ...(s.parentSpanId ? { parentId: s.parentSpanId } : {}),
      name: s.name,
      kind: s.kind,
      timestamp: Math.round(s.startMs * 1000),
      duration: Math.max(1, Math.round(s.durationMs * 1000)),
      localEndpoint: { serviceName: this.serviceName },
      tags: { ...s.attributes, ...(s.error ? { error: 'true' } : {}) },
    }));
    const res = await fetch(this.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`zipkin answered ${res.status}`);
  }
}

/** OTLP/HTTP with the JSON encoding (`POST <endpoint>/v1/traces`). */
export class OtlpHttpExporter implements SpanExporter {
  private readonly url: string;
  constructor(endpoint: string, isSecure: boolean, private readonly serviceName: string, private readonly headers: Record<string, string>) {
    const base = /^https?:\/\//.test(endpoint) ? endpoint : `${isSecure ? 'https' : 'http'}://${endpoint}`;
    this.url = base.endsWith('/v1/traces') ? base : `${base.replace(/\/$/, '')}/v1/traces`;
  }
  async export(spans: readonly SpanRecord[]): Promise<void> {
    const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: this.serviceName } }] },
          scopeSpans: [
            {
              scope: { name: 'weft' },
              spans: spans.map((s) => ({
                traceId: s.context.traceId,
                spanId: s.context.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind === 'SERVER' ? 2 : 3,
                startTimeUnixNano: nanos(s.startMs),
                endTimeUnixNano: nanos(s.startMs + s.durationMs),
                attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
                status: { code: s.error ? 2 : 1 },
              })),
            },
          ],
        },
      ],
    };
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json', ...this.headers }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`OTLP collector answered ${res.status}`);
  }
}

/** An open server span. */
export interface ServerSpan {
  context: SpanContext;
  /** Ends the span; `error` for 5xx. */
  end(name: string, attributes: Record<string, string>, error: boolean): void;
}

/** Creates spans, samples them and exports the sampled ones in batches. */
export class Tracer {
  private queue: SpanRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly samplingRate: number,
    private readonly exporters: readonly SpanExporter[],
    private readonly logger: Logger,
    private readonly flushMs = 500,
  ) {}

  /** Builds the tracer the Configuration asks for; undefined when tracing is off. */
  static fromConfiguration(config: WeftConfiguration, serviceName: string, logger: Logger): Tracer | undefined {
    const t = config.tracing;
    const exporters: SpanExporter[] = [];
    if (t.zipkinEndpoint) exporters.push(new ZipkinExporter(t.zipkinEndpoint, serviceName));
    if (t.otel) {
      if (t.otel.protocol === 'http') exporters.push(new OtlpHttpExporter(t.otel.endpointAddress, t.otel.isSecure, serviceName, t.otel.headers));
      else logger.warn('tracing.otel.protocol "grpc" is not supported yet; use protocol: http (OTLP/HTTP) or zipkin');
    }
    if (t.stdout) logger.warn('tracing.stdout is not supported yet');
    if (t.samplingRate <= 0 && exporters.length === 0) return undefined;
    return new Tracer(t.samplingRate, exporters, logger);
  }

  /** Starts a server span under the incoming `traceparent`, if any. */
  startServerSpan(traceparent: string | undefined, tracestate: string | undefined): ServerSpan {
    const parent = parseTraceparent(traceparent, tracestate);
    const context = childContext(parent, this.samplingRate);
    const startMs = Date.now();
    const started = performance.now();
    return {
      context,
      end: (name, attributes, error) => {
        if (!context.sampled || this.exporters.length === 0) return;
        this.enqueue({
          name,
          context,
          ...(parent ? { parentSpanId: parent.spanId } : {}),
          kind: 'SERVER',
          startMs,
          durationMs: performance.now() - started,
          attributes,
          error,
        });
      },
    };
  }

  /** Sends what is queued now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const results = await Promise.allSettled(this.exporters.map((e) => e.export(batch)));
    for (const r of results) {
      if (r.status === 'rejected' && !this.warned) {
        this.warned = true;
        this.logger.warn(`could not export spans: ${(r.reason as Error).message}`);
      }
    }
  }

  private enqueue(span: SpanRecord): void {
    this.queue.push(span);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }
}

/** Re-exported for callers that propagate context. */
export { formatTraceparent };
