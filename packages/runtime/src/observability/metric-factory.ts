/**
 * Creates the sidecar's Prometheus metrics on its registry, with the Configuration's
 * `metrics.rules` applied to every recorded label set (see `metric-rules.ts`).
 *
 * Recording is on the hot path of every request, so it does not go through prom-client's
 * `inc(labels)` / `observe(labels, v)`: those validate the label names, build the series key and
 * allocate a closure and a wrapper object on every call (a profile of an invocation at 1,000
 * requests/s put a tenth of the sidecar's CPU and allocation there). Here a series is resolved once
 * (labels rewritten by the rules, its key built) and then recorded by bumping numbers in the same
 * per-series entry prom-client renders from, so the exposition is prom-client's own. Recorders that
 * see the same label sets again hold a {@link BoundCounter} / {@link BoundHistogram} per series and
 * record without allocating; `inc(labels)` / `observe(labels, v)` still work for the rest.
 *
 * This relies on the layout of prom-client's per-series entries (`hashMap`, keyed as prom-client
 * keys them), pinned by its exact version in package.json; `metric-factory.test.ts` checks the
 * exposition against prom-client's own recording, so an upgrade that changes the layout fails there.
 */
import { Counter, Gauge, Histogram } from './prom-client.js';
import type { Registry } from './prom-client.js';
import type { LabelRewriter, LabelSet, MetricLabelRules } from './metric-rules.js';

/** One series of a counter, resolved once. */
export interface BoundCounter {
  inc(value?: number): void;
}

/** One series of a histogram, resolved once. */
export interface BoundHistogram {
  observe(value: number): void;
}

/** A counter as recorders use it. */
export interface CounterMetric {
  inc(labels: LabelSet, value?: number): void;
  /** The series of `labels`, for recorders that record it again and again. */
  bind(labels: LabelSet): BoundCounter;
}

/** A histogram as recorders use it. */
export interface HistogramMetric {
  observe(labels: LabelSet, value: number): void;
  /** The series of `labels`, for recorders that record it again and again. */
  bind(labels: LabelSet): BoundHistogram;
}

/** A gauge as recorders use it. */
export interface GaugeMetric {
  set(labels: LabelSet, value: number): void;
}

const identity: LabelRewriter = (labels) => labels;

/** prom-client's per-series entries (see the module comment). */
interface SeriesMap<E> {
  hashMap: Record<string, E>;
}
interface CounterEntry {
  value: number;
  labels: LabelSet;
}
interface HistogramEntry {
  labels: LabelSet;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** prom-client's series key: `name:value,` for each label present, label names sorted. */
function seriesKey(sortedNames: readonly string[], labels: LabelSet): string {
  let key = '';
  for (const name of sortedNames) {
    const value = labels[name];
    if (value !== undefined) key += `${name}:${value},`;
  }
  return key;
}

/** A series whose entry is looked up again only after the metric was reset. */
abstract class Series<E> {
  private map: Record<string, E> | undefined;
  private entry: E | undefined;

  constructor(
    private readonly metric: SeriesMap<E>,
    readonly labels: LabelSet,
    private readonly key: string,
  ) {}

  protected abstract create(): E;

  protected resolve(): E {
    const map = this.metric.hashMap;
    if (this.map === map && this.entry !== undefined) return this.entry;
    let entry = map[this.key];
    if (entry === undefined) {
      entry = this.create();
      map[this.key] = entry;
    }
    this.map = map;
    this.entry = entry;
    return entry;
  }
}

class CounterSeries extends Series<CounterEntry> implements BoundCounter {
  protected create(): CounterEntry {
    return { value: 0, labels: this.labels };
  }

  inc(value = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) throw new TypeError(`a counter cannot be increased by ${String(value)}`);
    this.resolve().value += value;
  }
}

class HistogramSeries extends Series<HistogramEntry> implements BoundHistogram {
  constructor(
    metric: SeriesMap<HistogramEntry>,
    labels: LabelSet,
    key: string,
    private readonly upperBounds: readonly number[],
  ) {
    super(metric, labels, key);
  }

  protected create(): HistogramEntry {
    const bucketValues: Record<number, number> = {};
    for (const bound of this.upperBounds) bucketValues[bound] = 0;
    return { labels: this.labels, bucketValues, sum: 0, count: 0 };
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`a histogram cannot observe ${String(value)}`);
    const entry = this.resolve();
    entry.sum += value;
    entry.count += 1;
    // As prom-client: the count of the first bucket that holds the value (+Inf is the total count).
    // An indexed loop: a for…of here showed up as an iterator allocated per observation in heap profiles.
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      const bound = bounds[i] as number;
      if (value <= bound) {
        entry.bucketValues[bound] = (entry.bucketValues[bound] ?? 0) + 1;
        return;
      }
    }
  }
}

/** The series of one metric by key; label sets a rule rewrites are rewritten before keying. */
class SeriesTable<S> {
  private readonly byKey = new Map<string, S>();
  private readonly sortedNames: readonly string[];

  constructor(
    labelNames: readonly string[],
    private readonly rewrite: LabelRewriter,
    private readonly make: (labels: LabelSet, key: string) => S,
  ) {
    this.sortedNames = [...labelNames].sort();
  }

  get(labels: LabelSet): S {
    const rewritten = this.rewrite(labels);
    const key = seriesKey(this.sortedNames, rewritten);
    let series = this.byKey.get(key);
    if (series === undefined) {
      // A copy: the caller may reuse or change its object.
      series = this.make({ ...rewritten }, key);
      this.byKey.set(key, series);
    }
    return series;
  }
}

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
    const counter = new Counter({ name, help, labelNames: [...labelNames], registers: this.registers }) as unknown as SeriesMap<CounterEntry>;
    const table = new SeriesTable(labelNames, this.rewriter(name), (labels, key) => new CounterSeries(counter, labels, key));
    return {
      inc: (labels, value) => table.get(labels).inc(value),
      bind: (labels) => table.get(labels),
    };
  }

  /** A histogram; latency buckets unless `buckets` is given. */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = this.latencyBucketsMs): HistogramMetric {
    const histogram = new Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: this.registers });
    const upperBounds = (histogram as unknown as { upperBounds: readonly number[] }).upperBounds;
    const map = histogram as unknown as SeriesMap<HistogramEntry>;
    const table = new SeriesTable(labelNames, this.rewriter(name), (labels, key) => new HistogramSeries(map, labels, key, upperBounds));
    return {
      observe: (labels, value) => table.get(labels).observe(value),
      bind: (labels) => table.get(labels),
    };
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
