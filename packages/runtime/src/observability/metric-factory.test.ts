import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricFactory } from './metric-factory.js';
import { MetricLabelRules } from './metric-rules.js';

const BUCKETS = [1, 5, 10];

/** The same recordings through the factory and through prom-client's own API, rendered by each registry. */
async function bothWays(record: (counter: (l: Record<string, string>, v?: number) => void, observe: (l: Record<string, string>, v: number) => void) => void) {
  const ours = new Registry();
  const factory = new MetricFactory(ours, BUCKETS);
  const c = factory.counter('c_total', 'a counter', ['app_id', 'status']);
  const h = factory.histogram('h_ms', 'a histogram', ['app_id', 'status']);
  const theirs = new Registry();
  const pc = new Counter({ name: 'c_total', help: 'a counter', labelNames: ['app_id', 'status'], registers: [theirs] });
  const ph = new Histogram({ name: 'h_ms', help: 'a histogram', labelNames: ['app_id', 'status'], buckets: BUCKETS, registers: [theirs] });
  const bound = new Map<string, { c: ReturnType<typeof c.bind>; h: ReturnType<typeof h.bind> }>();
  record(
    (l, v) => {
      // Every other call through a bound series, so both ways of recording are covered.
      const key = JSON.stringify(l);
      const b = bound.get(key) ?? { c: c.bind(l), h: h.bind(l) };
      bound.set(key, b);
      if (v === 2) b.c.inc(v);
      else c.inc(l, v);
      pc.inc(l, v);
    },
    (l, v) => {
      if (v > 4) h.bind(l).observe(v);
      else h.observe(l, v);
      ph.observe(l, v);
    },
  );
  return { ours: await ours.metrics(), theirs: await theirs.metrics(), ourJson: await ours.getMetricsAsJSON(), theirJson: await theirs.getMetricsAsJSON() };
}

describe('metric factory', () => {
  it('renders counters and histograms exactly as prom-client records them', async () => {
    const { ours, theirs, ourJson, theirJson } = await bothWays((inc, observe) => {
      for (const status of ['200', '500', '200']) {
        inc({ app_id: 'a', status });
        inc({ status, app_id: 'a' }, 2);
        for (const v of [0.5, 1, 3, 7, 10, 11, 250]) observe({ app_id: 'a', status }, v);
      }
      inc({ app_id: 'b', status: '' }, 0);
      observe({ app_id: 'b', status: '204' }, 4.5);
    });
    expect(ours).toBe(theirs);
    expect(ourJson).toEqual(theirJson);
    expect(ours).toContain('h_ms_bucket{le="5",app_id="a",status="200"} 6');
    expect(ours).toContain('c_total{app_id="a",status="200"} 6');
  });

  it('starts a reset series from zero, bound or not', async () => {
    const registry = new Registry();
    const factory = new MetricFactory(registry, BUCKETS);
    const c = factory.counter('c_total', 'a counter', ['app_id']);
    const bound = c.bind({ app_id: 'a' });
    bound.inc();
    bound.inc();
    registry.resetMetrics();
    bound.inc();
    c.inc({ app_id: 'a' });
    expect(await registry.metrics()).toContain('c_total{app_id="a"} 2');
  });

  it('applies metrics.rules once per bound series and keeps the caller free to change its label object', async () => {
    const registry = new Registry();
    const rules = MetricLabelRules.compile([{ name: 'c_total', labels: [{ name: 'path', regex: { '/orders/{id}': '^/orders/.+$' } }] }]);
    const factory = new MetricFactory(registry, BUCKETS, rules);
    const c = factory.counter('c_total', 'a counter', ['path']);
    const labels = { path: '/orders/1' };
    const bound = c.bind(labels);
    labels.path = '/users/1';
    bound.inc();
    c.inc({ path: '/orders/2' });
    c.inc(labels);
    const text = await registry.metrics();
    expect(text).toContain('c_total{path="/orders/{id}"} 2');
    expect(text).toContain('c_total{path="/users/1"} 1');
  });

  it('refuses a negative or non-finite increment and a non-finite observation', () => {
    const factory = new MetricFactory(new Registry(), BUCKETS);
    const c = factory.counter('c_total', 'a counter', ['app_id']);
    const h = factory.histogram('h_ms', 'a histogram', ['app_id']);
    expect(() => c.inc({ app_id: 'a' }, -1)).toThrow(TypeError);
    expect(() => c.inc({ app_id: 'a' }, Number.NaN)).toThrow(TypeError);
    expect(() => h.observe({ app_id: 'a' }, Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
