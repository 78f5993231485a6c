/**
 * Spans of one sidecar: started and ended by the API servers and by the calls the sidecar makes
 * (to the app, to other sidecars, to components, to workflow workers), sampled with the
 * Configuration's `samplingRate` (a sampled or unsampled caller decides for its children), batched
 * and handed to the exporters the `tracing` section asks for (Zipkin, OTLP over HTTP or gRPC,
 * stdout). Exporting never fails a request: an unreachable collector is logged once.
 *
 * The exporters are the official OpenTelemetry ones, loaded with a dynamic import on the first
 * batch (`trace-exporters.ts`), so a sidecar without tracing never loads them and one with tracing
 * pays for them after start-up, not during it. Spans are kept in Weft's own small model rather than
 * the OpenTelemetry SDK's, because workflows need spans whose id was fixed in history long before
 * they end (one orchestration span across many replays), which the SDK does not allow.
 */
import type { Logger } from '../logging/logger.js';
import type { WeftConfiguration } from '../config/configuration.js';
import type { AttributeValue, ExporterSettings, SpanExporter, SpanKind, SpanRecord } from './span-record.js';
import { childContext, formatTraceparent, parseTraceparent } from './trace-context.js';
import type { SpanContext } from './trace-context.js';

export type { AttributeValue, ExporterSettings, SpanExporter, SpanKind, SpanRecord };

/** How a span ends. */
export interface SpanEnd {
  /** Status ERROR. */
  error?: boolean;
  /** The error's description. */
  message?: string;
  attributes?: Record<string, AttributeValue | undefined>;
  /** Overrides the name given at start (daprd names some spans only once the request is understood). */
  name?: string;
}

/** An open span. Ending it twice is harmless. */
export interface Span {
  /** This span's identity: what callees get as their parent. */
  readonly context: SpanContext;
  /** {@link context} as a W3C `traceparent` value. */
  readonly traceparent: string;
  /** The span's `tracestate`, if the trace carries one. */
  readonly tracestate: string | undefined;
  setAttributes(attributes: Record<string, AttributeValue | undefined>): void;
  end(how?: SpanEnd): void;
}

/** What a span starts with. */
export interface SpanStart {
  kind: SpanKind;
  /** The caller's span; absent starts a new trace (sampled with the sampling rate). */
  parent?: SpanContext | undefined;
  attributes?: Record<string, AttributeValue | undefined>;
  /** Backdates the start (epoch ms), for spans whose work began before the sidecar saw it end. */
  startMs?: number;
  /** A span id fixed beforehand (a workflow's orchestration span id is kept in its history). */
  spanId?: string;
}

/** Builds the exporters; the default loads the official OpenTelemetry packages on demand. */
export type ExporterFactory = (settings: ExporterSettings) => Promise<SpanExporter[]>;

const loadOfficialExporters: ExporterFactory = async (settings) => (await import('./trace-exporters.js')).createExporters(settings);

function defined(attributes: Record<string, AttributeValue | undefined> | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(attributes ?? {})) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** Creates spans, samples them and exports the sampled ones in batches. */
export class Tracer {
  private queue: SpanRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  private exporters: Promise<SpanExporter[]> | undefined;

  /**
   * @param samplingRate probability that a span without a parent starts a sampled trace
   * @param exporterFactory builds the exporters when the first batch is flushed
   */
  constructor(
    private readonly samplingRate: number,
    private readonly settings: ExporterSettings,
    private readonly exporterFactory: ExporterFactory = loadOfficialExporters,
    private readonly flushMs = 500,
  ) {}

  /** Builds the tracer the Configuration asks for; undefined when tracing is off. */
  static fromConfiguration(config: WeftConfiguration, serviceName: string, logger: Logger, factory?: ExporterFactory): Tracer | undefined {
    const t = config.tracing;
    const exporting = t.stdout || t.zipkinEndpoint !== undefined || t.otel !== undefined;
    if (t.samplingRate <= 0 && !exporting) return undefined;
    return new Tracer(t.samplingRate, { serviceName, tracing: t, logger }, factory);
  }

  /** The app id spans are reported under. */
  get serviceName(): string {
    return this.settings.serviceName;
  }

  /** Starts a span as a child of `start.parent` (or a new trace). */
  startSpan(name: string, start: SpanStart): Span {
    const parent = start.parent;
    const base = childContext(parent, this.samplingRate);
    const context: SpanContext = start.spanId ? { ...base, spanId: start.spanId } : base;
    const attributes = defined(start.attributes);
    const startMs = start.startMs ?? performance.timeOrigin + performance.now();
    let ended = false;
    let spanName = name;
    return {
      context,
      traceparent: formatTraceparent(context),
      tracestate: context.traceState,
      setAttributes: (more) => Object.assign(attributes, defined(more)),
      end: (how = {}) => {
        if (ended) return;
        ended = true;
        if (!context.sampled) return;
        if (how.name) spanName = how.name;
        Object.assign(attributes, defined(how.attributes));
        this.enqueue({
          name: spanName,
          context,
          ...(parent ? { parentSpanId: parent.spanId } : {}),
          kind: start.kind,
          startMs,
          durationMs: Math.max(0, performance.timeOrigin + performance.now() - startMs),
          attributes,
          error: how.error === true,
          ...(how.error && how.message ? { statusMessage: how.message } : {}),
        });
      },
    };
  }

  /** Starts a span under an incoming W3C `traceparent`/`tracestate` pair (invalid or absent: a new trace). */
  startSpanFromHeaders(name: string, kind: SpanKind, traceparent: string | undefined, tracestate: string | undefined, attributes?: Record<string, AttributeValue | undefined>): Span {
    return this.startSpan(name, { kind, parent: parseTraceparent(traceparent, tracestate), ...(attributes ? { attributes } : {}) });
  }

  /** Sends what is queued now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const exporters = await this.loadExporters();
    const results = await Promise.allSettled(exporters.map((e) => e.export(batch)));
    for (const r of results) if (r.status === 'rejected') this.warnOnce(`could not export spans: ${(r.reason as Error).message}`);
  }

  /** Flushes and closes the exporters (sidecar shutdown). */
  async shutdown(): Promise<void> {
    await this.flush();
    if (!this.exporters) return;
    const exporters = await this.exporters;
    await Promise.allSettled(exporters.map((e) => e.shutdown?.()));
  }

  private loadExporters(): Promise<SpanExporter[]> {
    this.exporters ??= this.exporterFactory(this.settings).catch((err: unknown) => {
      this.warnOnce(`could not load the trace exporters: ${(err as Error).message}`);
      return [];
    });
    return this.exporters;
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.settings.logger.warn(message);
  }

  private enqueue(span: SpanRecord): void {
    this.queue.push(span);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }
}
