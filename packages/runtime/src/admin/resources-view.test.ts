/**
 * The components page's resources: the Configuration (defaults or the file's, exporter headers
 * redacted), the Resiliency resources applied to this app, declarative and programmatic subscriptions
 * with their YAML, and the access-control policies — and the admin route that serves them.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultConfiguration, parseConfiguration } from '../config/configuration.js';
import type { StateBlock } from '../blocks/state/state-block.js';
import type { ComponentManager } from '../components/manager.js';
import { ADMIN_PREFIX, adminRoutes } from './admin-routes.js';
import { PubSubTraffic } from './pubsub-traffic.js';
import { resourcesView } from './resources-view.js';
import type { ResourcesViewInput } from './resources-view.js';

const CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  tracing:
    samplingRate: "1"
    otel:
      endpointAddress: collector:4317
      headers: "x-api-key=s3cret,x-team=pay"
  accessControl:
    defaultAction: deny
    trustDomain: public
    policies:
      - appId: checkout
        defaultAction: deny
        operations:
          - name: /orders/*
            httpVerb: [POST]
            action: allow
`;

const input = (over: Partial<ResourcesViewInput> = {}): ResourcesViewInput => ({
  appId: 'orders',
  configuration: parseConfiguration('/cfg/config.yaml', CONFIG),
  resiliencyDocs: [
    { file: '/res/resiliency.yaml', index: 0, doc: { apiVersion: 'dapr.io/v1alpha1', kind: 'Resiliency', metadata: { name: 'orders-res' }, spec: { policies: { retries: { three: { policy: 'constant', maxRetries: 3 } } } } } },
    { file: '/res/other.yaml', index: 0, doc: { kind: 'Resiliency', metadata: { name: 'not-for-us' }, scopes: ['billing'] } },
  ],
  resiliencyLoaded: [{ name: 'orders-res', namespace: '' }],
  subscriptionDocs: [
    { file: '/res/sub.yaml', index: 0, doc: { apiVersion: 'dapr.io/v2alpha1', kind: 'Subscription', metadata: { name: 'orders-sub' }, spec: { pubsubname: 'pubsub', topic: 'orders', routes: { default: '/orders' }, deadLetterTopic: 'orders-dead' } } },
  ],
  subscriptions: [
    { pubsubname: 'pubsub', topic: 'orders', metadata: {}, rules: [{ match: '', path: '/orders' }], deadLetterTopic: 'orders-dead', type: 'DECLARATIVE' },
    { pubsubname: 'pubsub', topic: 'refunds', metadata: { rawPayload: 'true' }, rules: [{ match: 'event.type == "big"', path: '/big' }, { match: '', path: '/refunds' }], deadLetterTopic: '', type: 'PROGRAMMATIC' },
  ],
  ...over,
});

describe('resourcesView', () => {
  it('shows the Configuration with its file and YAML, exporter headers redacted', () => {
    const view = resourcesView(input());
    expect(view.configuration).toMatchObject({ name: 'appconfig', isDefault: false, file: '/cfg/config.yaml' });
    const doc = parse(view.configuration.yaml) as { kind: string; spec: { tracing: { otel: { headers: string } } } };
    expect(doc.kind).toBe('Configuration');
    expect(doc.spec.tracing.otel.headers).toBe('x-api-key=<redacted>,x-team=<redacted>');
    expect(view.configuration.yaml).not.toContain('s3cret');
    expect(resourcesView(input({ configuration: defaultConfiguration() })).configuration).toMatchObject({ name: 'default', isDefault: true });
  });

  it('lists only the Resiliency resources applied to this app', () => {
    const view = resourcesView(input());
    expect(view.resiliency.map((r) => r.name)).toEqual(['orders-res']);
    expect(parse(view.resiliency[0]!.yaml)).toMatchObject({ spec: { policies: { retries: { three: { maxRetries: 3 } } } } });
  });

  it('gives declarative subscriptions their document and programmatic ones an equivalent Subscription', () => {
    const [declared, programmatic] = resourcesView(input()).subscriptions;
    expect(declared).toMatchObject({ name: 'orders-sub', type: 'declarative', file: '/res/sub.yaml', deadLetterTopic: 'orders-dead' });
    expect(parse(declared!.yaml)).toMatchObject({ metadata: { name: 'orders-sub' }, spec: { routes: { default: '/orders' } } });
    expect(programmatic).toMatchObject({ name: 'pubsub-refunds', type: 'programmatic', topic: 'refunds' });
    expect(programmatic).not.toHaveProperty('file');
    expect(parse(programmatic!.yaml)).toEqual({
      apiVersion: 'dapr.io/v2alpha1',
      kind: 'Subscription',
      metadata: { name: 'pubsub-refunds' },
      spec: { pubsubname: 'pubsub', topic: 'refunds', routes: { rules: [{ match: 'event.type == "big"', path: '/big' }], default: '/refunds' }, metadata: { rawPayload: 'true' } },
      scopes: ['orders'],
    });
  });

  it('lists the access-control policies with Dapr defaults filled in, and none without accessControl', () => {
    const acl = resourcesView(input()).accessControl!;
    expect(acl).toMatchObject({ defaultAction: 'deny', trustDomain: 'public' });
    expect(acl.policies).toEqual([
      { appId: 'checkout', defaultAction: 'deny', trustDomain: 'public', namespace: 'default', operations: [{ name: '/orders/*', httpVerb: ['POST'], action: 'allow' }] },
    ]);
    expect(parse(acl.yaml)).toMatchObject({ accessControl: { defaultAction: 'deny' } });
    expect(resourcesView(input({ configuration: defaultConfiguration() }))).not.toHaveProperty('accessControl');
  });

  it('is served by GET /v1.0-weft/admin/resources, and answers 501 when the sidecar gives none', async () => {
    const base = { appId: 'orders', startedAt: new Date(), state: {} as StateBlock, components: {} as ComponentManager, traffic: new PubSubTraffic(1) };
    const ctx = { method: 'GET', path: `${ADMIN_PREFIX}/resources`, params: {}, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) };
    const route = adminRoutes({ ...base, resources: () => resourcesView(input()) }).find((r) => r.path === `${ADMIN_PREFIX}/resources`)!;
    const reply = await route.handler(ctx);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ appId: 'orders', configuration: { name: 'appconfig' }, subscriptions: [{ topic: 'orders' }, { topic: 'refunds' }] });
    const bare = adminRoutes(base).find((r) => r.path === `${ADMIN_PREFIX}/resources`)!;
    await expect(Promise.resolve().then(() => bare.handler(ctx))).rejects.toMatchObject({ code: 'ERR_ADMIN_RESOURCES_UNAVAILABLE', httpStatus: 501 });
  });
});
