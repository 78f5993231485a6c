import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricFactory } from './metric-factory.js';
import { MetricLabelRules, MetricRuleError, expandGoTemplate, goRegExp, ruleKey } from './metric-rules.js';
import type { MetricRuleSpec } from './metric-rules.js';

const rewrite = (rules: MetricRuleSpec[], metric: string, labels: Record<string, string>) => {
  const rewriter = MetricLabelRules.compile(rules).rewriterFor(metric);
  return rewriter ? rewriter(labels) : labels;
};

describe('metric rules', () => {
  it('name a metric with or without the dapr_ prefix, with / and _ alike', () => {
    expect(ruleKey('dapr_http_server_request_count')).toBe('http_server_request_count');
    expect(ruleKey('http/server/request_count')).toBe('http_server_request_count');
    const rules = [{ name: 'http/server/request_count', labels: [{ name: 'path', regex: { '/orders/{id}': '^/orders/.+$' } }] }];
    expect(rewrite(rules, 'dapr_http_server_request_count', { path: '/orders/7' })).toEqual({ path: '/orders/{id}' });
    expect(rewrite(rules, 'dapr_http_server_latency', { path: '/orders/7' })).toEqual({ path: '/orders/7' });
  });

  it('replace every match of the expression by the map key, as Go ReplaceAllString does', () => {
    const rules = [{ name: 'dapr_runtime_service_invocation_req_sent_total', labels: [{ name: 'method', regex: { 'orders/': 'orders/.+' } }] }];
    const metric = 'dapr_runtime_service_invocation_req_sent_total';
    expect(rewrite(rules, metric, { method: 'orders/123' })).toEqual({ method: 'orders/' });
    // The expression is not anchored: only the matching part of the value is replaced.
    expect(rewrite(rules, metric, { method: 'v1/orders/123' })).toEqual({ method: 'v1/orders/' });
    expect(rewrite(rules, metric, { method: 'users/1' })).toEqual({ method: 'users/1' });
    // Empty matches right after a match are skipped, as in Go (JavaScript's replace would not skip them).
    expect(rewrite([{ name: 'm', labels: [{ name: 'l', regex: { '-': 'x*' } }] }], 'm', { l: 'abc' })).toEqual({ l: '-a-b-c-' });
    expect(rewrite([{ name: 'm', labels: [{ name: 'l', regex: { all: '.*' } }] }], 'm', { l: 'abc' })).toEqual({ l: 'all' });
  });

  it('leave empty values, absent labels and other labels alone', () => {
    const rules = [{ name: 'm', labels: [{ name: 'topic', regex: { x: '.*' } }] }];
    expect(rewrite(rules, 'm', { topic: '', app_id: 'a' })).toEqual({ topic: '', app_id: 'a' });
    expect(rewrite(rules, 'm', { app_id: 'a' })).toEqual({ app_id: 'a' });
    expect(rewrite(rules, 'm', { topic: 'orders-17', app_id: 'orders-17' })).toEqual({ topic: 'x', app_id: 'orders-17' });
  });

  it('expand $n, ${n}, $name, ${name} and $$ in the key, and translate (?P<name>) and (?i)', () => {
    const match = /^(?<kind>[a-z]+)-(\d+)$/.exec('orders-17') as RegExpExecArray;
    expect(expandGoTemplate('$1', match)).toBe('orders');
    expect(expandGoTemplate('${1}x', match)).toBe('ordersx');
    expect(expandGoTemplate('$1x', match)).toBe('');
    expect(expandGoTemplate('${kind}-n', match)).toBe('orders-n');
    expect(expandGoTemplate('$$1 $', match)).toBe('$1 $');
    const rules = [{ name: 'm', labels: [{ name: 'topic', regex: { '${kind}-N': '(?i)^(?P<kind>[a-z]+)-\\d+$' } }] }];
    expect(rewrite(rules, 'm', { topic: 'ORDERS-17' })).toEqual({ topic: 'ORDERS-N' });
    expect(goRegExp('(?is)a.b').flags).toBe('gis');
  });

  it('let a later entry for the same metric and label replace an earlier one', () => {
    const rules = [
      { name: 'm', labels: [{ name: 'l', regex: { first: 'a' } }] },
      { name: 'dapr_m', labels: [{ name: 'l', regex: { second: 'a' } }] },
    ];
    expect(rewrite(rules, 'm', { l: 'a' })).toEqual({ l: 'second' });
  });

  it('reject an expression that does not compile, naming the field', () => {
    const rules: MetricRuleSpec[] = [{ name: 'm', labels: [{ name: 'l', regex: { ok: 'a' } }, { name: 'k', regex: { bad: '(' } }] }];
    expect(() => MetricLabelRules.compile(rules)).toThrow(MetricRuleError);
    try {
      MetricLabelRules.compile(rules);
    } catch (err) {
      expect((err as MetricRuleError).path).toBe('spec.metrics.rules.0.labels.1.regex.bad');
    }
    expect(() => goRegExp('(?U)a')).toThrow('flag "U" is not supported');
  });

  it('merge the series a rule collapses into one, on the metrics a factory builds', async () => {
    const registry = new Registry();
    const rules = MetricLabelRules.compile([{ name: 'dapr_test_count', labels: [{ name: 'path', regex: { '/orders/{id}': '^/orders/[^/]+$' } }] }]);
    const factory = new MetricFactory(registry, [1, 10], rules);
    const counter = factory.counter('dapr_test_count', 'test', ['path']);
    const untouched = factory.counter('dapr_other_count', 'test', ['path']);
    for (const id of ['1', '2', '3']) {
      counter.inc({ path: `/orders/${id}` });
      untouched.inc({ path: `/orders/${id}` });
    }
    const text = await registry.metrics();
    expect(text).toContain('dapr_test_count{path="/orders/{id}"} 3');
    expect(text).not.toContain('dapr_test_count{path="/orders/1"}');
    expect(text).toContain('dapr_other_count{path="/orders/1"} 1');
  });
});
