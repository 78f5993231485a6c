import { describe, expect, it } from 'vitest';
import { parseDeclarative, parseProgrammatic } from './subscriptions.js';

const doc = (apiVersion: string, spec: Record<string, unknown>, scopes?: string[]) => ({
  file: 'subs.yaml',
  index: 0,
  doc: { apiVersion, kind: 'Subscription', metadata: { name: 'sub' }, spec, ...(scopes ? { scopes } : {}) },
});

describe('subscription parsing', () => {
  it('lets v2 routes win over the v1 route and keeps the default last', () => {
    const { subscriptions } = parseProgrammatic([
      { pubsubname: 'ps', topic: 't', route: '/v1', routes: { rules: [{ match: 'event.type == "a"', path: '/a' }], default: '/d' } },
    ]);
    expect(subscriptions[0]!.rules.map((r) => [r.match, r.path])).toEqual([
      ['event.type == "a"', '/a'],
      ['', '/d'],
    ]);
  });

  it('reports entries without a route or with bad CEL and keeps the good ones', () => {
    const { subscriptions, problems } = parseProgrammatic([
      { pubsubname: 'ps', topic: 'ok', route: '/ok', bulkSubscribe: { enabled: true, maxMessagesCount: 10 } },
      { pubsubname: 'ps', topic: 'noroute' },
      { pubsubname: 'ps', topic: 'badcel', routes: { rules: [{ match: 'event.type ==', path: '/x' }] } },
    ]);
    expect(subscriptions.map((s) => s.topic)).toEqual(['ok']);
    expect(subscriptions[0]!.bulkSubscribe).toEqual({ enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 1000 });
    expect(problems.map((p) => p.where)).toEqual(['GET /dapr/subscribe [1]', 'GET /dapr/subscribe [2]']);
  });

  it('reads v1alpha1 spec.route, ignores routes there, and honours scopes', () => {
    const { subscriptions } = parseDeclarative(
      [
        doc('dapr.io/v1alpha1', { pubsubname: 'ps', topic: 'one', route: '/one', routes: { default: '/ignored' } }, ['me']),
        doc('dapr.io/v2alpha1', { pubsubname: 'ps', topic: 'two', routes: { default: '/two' } }, ['other']),
      ],
      'me',
    );
    expect(subscriptions.map((s) => [s.topic, s.rules.map((r) => r.path), s.type])).toEqual([['one', ['/one'], 'DECLARATIVE']]);
  });

  it('reports an unknown apiVersion with the file and name', () => {
    const { problems } = parseDeclarative([doc('dapr.io/v9', { pubsubname: 'ps', topic: 't', route: '/t' })], 'me');
    expect(problems[0]!.message).toContain('subs.yaml: Subscription "sub": apiVersion must be dapr.io/v1alpha1 or dapr.io/v2alpha1');
  });
});
