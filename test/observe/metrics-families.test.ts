/**
 * The metric families beyond the basics, on the Prometheus endpoint of a sidecar driven with real
 * traffic: `dapr_error_code_total` (Configuration `metrics.recordErrorCodes`), `metrics.rules`
 * rewriting label values, and the bulk pub/sub metrics of bulk publishing (HTTP and gRPC, a driver
 * with and without a bulk method) and bulk delivery to an HTTP app.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daprGrpcClient } from '../support/grpc-client.js';
import { requirePrometheus, startPrometheus } from '../support/prometheus.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const component = (name: string, type: string, metadata = '') =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec:\n  type: ${type}\n  version: v1\n${metadata}`;

const CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: families}
spec:
  metrics:
    recordErrorCodes: true
    rules:
    - name: dapr_http_server_request_count
      labels:
      - name: path
        regex:
          "/v1.0-beta1/workflows/dapr/{instanceId}": "^/v1.0-beta1/workflows/dapr/[^/]+$"
`;

let s: ObservedSidecar;
let app: SubscriberApp;
let dbDir: string;
let text: string;
const APP = 'observe-app';

beforeAll(async () => {
  dbDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-metrics-families-'));
  app = await startSubscriberApp([
    { pubsubname: 'mem', topic: 'orders', route: '/orders', bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 5000 } },
  ]);
  // Bulk deliveries: SUCCESS, except an entry whose data says "retry-once", answered RETRY the first time.
  const retried = new Set<string>();
  app.reply((d) => {
    const entries = (d.body as { entries?: { entryId: string; event: { data: { id: string } } }[] }).entries ?? [];
    const statuses = entries.map((e) => {
      const id = e.event.data.id;
      if (id === 'retry-once' && !retried.has(id)) {
        retried.add(id);
        return { entryId: e.entryId, status: 'RETRY' };
      }
      return { entryId: e.entryId, status: 'SUCCESS' };
    });
    return { json: { statuses } };
  });
  s = await startObservedSidecar({
    resources: [
      component('memstore', 'state.in-memory'),
      component('mem', 'pubsub.in-memory'),
      component('lite', 'pubsub.sqlite', `  metadata:\n  - {name: connectionString, value: "${path.join(dbDir, 'pubsub.db')}"}\n`),
    ],
    config: CONFIG,
    metricsPort: 0,
    appPort: app.port,
    env: { WEFT_PUBSUB_RETRY_INTERVAL: '50ms' },
  });
  await eventually(async () => {
    const meta = (await (await fetch(`${s.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length === 1;
  });

  // Errors over HTTP and gRPC.
  await fetch(`${s.baseUrl}/v1.0/state/nope/k`);
  await fetch(`${s.baseUrl}/v1.0-beta1/workflows/dapr/missing-1`);
  await fetch(`${s.baseUrl}/v1.0-beta1/workflows/dapr/missing-2`);
  await fetch(`${s.baseUrl}/v1.0/publish/nope/orders`, { method: 'POST', body: '{}' });
  await fetch(`${s.baseUrl}/v1.0/no-such-api`);
  const client = daprGrpcClient(s.sidecar.grpcPort);
  expect((await client.call('GetState', { store_name: 'nope', key: 'k' })).error?.code).toBe(3);
  expect((await client.call('GetState', { store_name: 'memstore', key: 'a||b' })).error?.code).toBe(3);

  // Bulk publishing: over HTTP to a driver without a bulk method, over gRPC to one with it.
  const entries = ['ok-1', 'ok-2', 'retry-once'].map((id, i) => ({ entryId: String(i), event: { id }, contentType: 'application/json' }));
  const res = await fetch(`${s.baseUrl}/v1.0-alpha1/publish/bulk/mem/orders`, { method: 'POST', body: JSON.stringify(entries), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(204);
  const grpcBulk = await client.call('BulkPublishEventAlpha1', {
    pubsub_name: 'lite',
    topic: 'audit',
    entries: [
      { entry_id: 'a', event: Buffer.from('{"n":1}'), content_type: 'application/json' },
      { entry_id: 'b', event: Buffer.from('{"n":2}'), content_type: 'application/json' },
    ],
  });
  expect(grpcBulk.error).toBeUndefined();
  client.close();

  // The app saw two bulk calls: all three entries, then the one it asked to retry.
  await app.waitFor((d) => d.filter((x) => x.path === '/orders').length === 2);
  await eventually(async () => (await scrape()).includes('process_status="SUCCESS",topic="orders"} 3'));
  text = await scrape();
});

afterAll(async () => {
  await s?.stop();
  await app?.close();
  await fs.rm(dbDir, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${s.sidecar.metricsPort}/metrics`)).text();
}

describe('dapr_error_code_total with recordErrorCodes', () => {
  it('counts each error code the HTTP and gRPC APIs answer with, under daprd’s category', () => {
    expect(text).toContain(`dapr_error_code_total{app_id="${APP}",category="state",error_code="ERR_STATE_STORE_NOT_FOUND"} 2`);
    expect(text).toContain(`dapr_error_code_total{app_id="${APP}",category="workflow",error_code="ERR_INSTANCE_ID_NOT_FOUND"} 2`);
    expect(text).toContain(`dapr_error_code_total{app_id="${APP}",category="pubsub",error_code="ERR_PUBSUB_NOT_FOUND"} 1`);
    // An illegal key is a malformed request daprd files under state.
    expect(text).toContain(`dapr_error_code_total{app_id="${APP}",category="state",error_code="ERR_MALFORMED_REQUEST"} 1`);
  });

  it('does not count codes daprd does not catalogue', () => {
    expect(text).not.toContain('error_code="ERR_NOT_FOUND"');
  });
});

describe('metrics.rules', () => {
  it('collapses label values matching a rule into the rule’s key, for the metric the rule names only', () => {
    expect(text).toContain(
      `dapr_http_server_request_count{app_id="${APP}",method="GET",path="/v1.0-beta1/workflows/dapr/{instanceId}",status="404"} 2`,
    );
    expect(text).not.toMatch(/dapr_http_server_request_count\{[^}]*missing-1/);
    // The latency histogram is another metric: no rule names it, so its paths stay as they were.
    expect(text).toMatch(/dapr_http_server_latency_count\{[^}]*path="\/v1.0-beta1\/workflows\/dapr\/missing-1"[^}]*\} 1/);
  });
});

describe('bulk pub/sub metrics', () => {
  const labels = (component: string, extra: string, topic: string) => `{app_id="${APP}",component="${component}",namespace="",${extra},topic="${topic}"}`;

  it('count a bulk publish and the entries the broker accepted, over HTTP and gRPC', () => {
    expect(text).toContain(`dapr_component_pubsub_egress_bulk_count${labels('mem', 'success="true"', 'orders')} 1`);
    expect(text).toContain(`dapr_component_pubsub_egress_bulk_event_count${labels('mem', 'success="true"', 'orders')} 3`);
    expect(text).toContain(`dapr_component_pubsub_egress_bulk_latencies_count${labels('mem', 'success="true"', 'orders')} 1`);
    expect(text).toContain(`dapr_component_pubsub_egress_bulk_count${labels('lite', 'success="true"', 'audit')} 1`);
    expect(text).toContain(`dapr_component_pubsub_egress_bulk_event_count${labels('lite', 'success="true"', 'audit')} 2`);
  });

  it('do not count the entries of a bulk publish as single publishes', () => {
    expect(text).not.toMatch(/dapr_component_pubsub_egress_count\{[^}]*component="mem"/);
    expect(text).not.toMatch(/dapr_component_pubsub_egress_count\{[^}]*component="lite"/);
  });

  it('count each bulk delivery to the app and its entries by the status the app gave them', () => {
    expect(text).toContain(`dapr_component_pubsub_ingress_bulk_count${labels('mem', 'process_status=""', 'orders')} 2`);
    expect(text).toContain(`dapr_component_pubsub_ingress_bulk_latencies_count${labels('mem', 'process_status=""', 'orders')} 2`);
    expect(text).toContain(`dapr_component_pubsub_ingress_bulk_event_count${labels('mem', 'process_status="SUCCESS"', 'orders')} 3`);
    expect(text).toContain(`dapr_component_pubsub_ingress_bulk_event_count${labels('mem', 'process_status="RETRY"', 'orders')} 1`);
    expect(text).not.toContain('process_status="DROP"');
    // Bulk deliveries are not counted as single deliveries.
    expect(text).not.toMatch(/dapr_component_pubsub_ingress_count\{[^}]*topic="orders"/);
  });
});

describe('a real Prometheus', () => {
  it('scrapes the error-code, bulk pub/sub and rule-collapsed series', async (ctx) => {
    if (!(await requirePrometheus('a real Prometheus scrapes the metric families'))) {
      ctx.skip();
      return;
    }
    const prometheus = await startPrometheus([`127.0.0.1:${s.sidecar.metricsPort}`]);
    try {
      const queries = {
        errors: 'dapr_error_code_total{error_code="ERR_INSTANCE_ID_NOT_FOUND"}',
        egress: 'dapr_component_pubsub_egress_bulk_event_count{component="mem"}',
        ingress: 'dapr_component_pubsub_ingress_bulk_event_count{process_status="SUCCESS"}',
        collapsed: 'dapr_http_server_request_count{path="/v1.0-beta1/workflows/dapr/{instanceId}"}',
      };
      const results: Record<string, Awaited<ReturnType<typeof prometheus.query>>> = {};
      await eventually(async () => {
        for (const [key, query] of Object.entries(queries)) results[key] = await prometheus.query(query);
        return Object.values(results).every((r) => r.length === 1);
      }, 20_000);
      expect(results['errors']?.[0]?.metric).toMatchObject({ app_id: APP, category: 'workflow', job: 'weft' });
      expect(results['errors']?.[0]?.value[1]).toBe('2');
      expect(results['egress']?.[0]?.value[1]).toBe('3');
      expect(results['ingress']?.[0]?.value[1]).toBe('3');
      expect(results['collapsed']?.[0]?.value[1]).toBe('2');
    } finally {
      await prometheus.stop();
    }
  });
});
