/**
 * Creates the sidecar's Prometheus metrics on its registry, with the Configuration's
 * `metrics.rules` applied to every recorded label set. A metric that no rule names is the plain
 * prom-client object, so recording costs nothing extra without rules; one that a rule names rewrites
 * its labels before recording (see `metric-rules.ts`).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { LabelRewriter, LabelSet, MetricLabelRules } from './metric-rules.js';

/** A counter as recorders use it. */
export interface CounterMetric {
  inc(labels: LabelSet, value?: number): void;
}

/** A histogram as recorders use it. */
export interface HistogramMetric {
  observe(labels: LabelSet, value: number): void;
}

/** A gauge as recorders use it. */
export interface GaugeMetric {
  set(labels: LabelSet, value: number): void;
}

const identity: LabelRewriter = (labels) => labels;

/** Builds metrics on one registry. */
export class MetricFactory {
  private readonly registers: Registry[];

  constructor(
    readonly registry: Registry,
    /** Histogram buckets of latency metrics, in ms. */
    readonly latencyBucketsMs: readonly number[],
    private readonly rules?: MetricLabelRules,
  ) {
    this.registers = [registry];
  }

  /** The label rewriter of `name` (identity when no rule names it). */
  rewriter(name: string): LabelRewriter {
    return this.rules?.rewriterFor(name) ?? identity;
  }

  /** A counter. */
  counter(name: string, help: string, labelNames: readonly string[]): CounterMetric {
    const counter = new Counter({ name, help, labelNames: [...labelNames], registers: this.registers });
    const rewrite = this.rules?.rewriterFor(name);
    return rewrite ? { inc: (labels, value) => counter.inc(rewrite(labels), value) } : counter;
  }

  /** A histogram; latency buckets unless `buckets` is given. */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = this.latencyBucketsMs): HistogramMetric {
    const histogram = new Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: this.registers });
    const rewrite = this.rules?.rewriterFor(name);
    return rewrite ? { observe: (labels, value) => histogram.observe(rewrite(labels), value) } : histogram;
  }

  /** A gauge set by recorders. */
  gauge(name: string, help: string, labelNames: readonly string[]): GaugeMetric {
    const gauge = new Gauge({ name, help, labelNames: [...labelNames], registers: this.registers });
    const rewrite = this.rules?.rewriterFor(name);
    return rewrite ? { set: (labels, value) => gauge.set(rewrite(labels), value) } : gauge;
  }

  /** A gauge whose value is read at each scrape; `read` returns undefined to leave it unset. */
  collectedGauge(name: string, help: string, labels: LabelSet, read: () => number | undefined): void {
    const rewritten = this.rewriter(name)(labels);
    new Gauge({
      name,
      help,
      labelNames: Object.keys(labels),
      registers: this.registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(rewritten, value);
      },
    });
  }
}
