/**
 * The Prometheus endpoint of a running sidecar: Dapr's metric names and labels for the HTTP and gRPC
 * servers, components and the runtime, the Configuration's latency buckets, and a real Prometheus
 * scraping it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daprGrpcClient } from '../support/grpc-client.js';
import { requirePrometheus, startPrometheus } from '../support/prometheus.js';
import { localFileSecretStore, startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;
const CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: metrics}
spec:
  metrics:
    latencyDistributionBuckets: [7, 70, 700]
    http:
      pathMatching: ["/v1.0/state/memstore/{key}"]
`;

let s: ObservedSidecar;
let secretsDir: string;
let metricsUrl: string;

beforeAll(async () => {
  secretsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-metrics-'));
  s = await startObservedSidecar({
    resources: [MEMORY_STORE, await localFileSecretStore(secretsDir, 'vault', { k: 'v' })],
    config: CONFIG,
    metricsPort: 0,
  });
  metricsUrl = `http://127.0.0.1:${s.sidecar.metricsPort}`;
  await fetch(`${s.baseUrl}/v1.0/state/memstore`, { method: 'POST', body: JSON.stringify([{ key: 'a', value: 1 }]) });
  await fetch(`${s.baseUrl}/v1.0/state/memstore/a`);
  await fetch(`${s.baseUrl}/v1.0/state/memstore/b`);
  await fetch(`${s.baseUrl}/v1.0/secrets/vault/k`);
  const client = daprGrpcClient(s.sidecar.grpcPort);
  await client.call('GetState', { store_name: 'memstore', key: 'a' });
  await client.call('GetState', { store_name: 'nope', key: 'a' });
  client.close();
});

afterAll(async () => {
  await s?.stop();
  await fs.rm(secretsDir, { recursive: true, force: true });
});

async function scrape(pathname = '/'): Promise<string> {
  const res = await fetch(`${metricsUrl}${pathname}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('the metrics endpoint', () => {
  it('answers on / and /metrics alike and binds to 127.0.0.1', async () => {
    const [root, metrics] = await Promise.all([scrape('/'), scrape('/metrics')]);
    expect(root).toContain('dapr_http_server_request_count');
    expect(metrics).toContain('dapr_http_server_request_count');
    const address = (s.sidecar as unknown as { metricsServer: { server: { address(): { address: string } } } }).metricsServer.server.address();
    expect(address.address).toBe('127.0.0.1');
  });

  it('counts HTTP requests with app_id, method, path (collapsed by pathMatching) and status', async () => {
    const text = await scrape();
    expect(text).toContain('dapr_http_server_request_count{app_id="observe-app",method="GET",path="/v1.0/state/memstore/{key}",status="200"} 1');
    expect(text).toContain('dapr_http_server_request_count{app_id="observe-app",method="GET",path="/v1.0/state/memstore/{key}",status="204"} 1');
    expect(text).toContain('dapr_http_server_request_count{app_id="observe-app",method="POST",path="/v1.0/state/memstore",status="204"} 1');
    expect(text).toMatch(/dapr_http_server_request_bytes_count\{app_id="observe-app"\} \d+/);
    expect(text).toMatch(/dapr_http_server_response_bytes_sum\{app_id="observe-app"\} \d+/);
  });

  it('uses the configured latencyDistributionBuckets for latency histograms', async () => {
    const text = await scrape();
    const buckets = [...text.matchAll(/dapr_http_server_latency_bucket\{le="([^"]+)",app_id="observe-app",method="GET",path="\/v1.0\/secrets\/vault",status="200"\}/g)].map(
      (m) => m[1],
    );
    expect(buckets).toEqual(['7', '70', '700', '+Inf']);
  });

  it('records gRPC calls by full method and status name', async () => {
    const text = await scrape();
    expect(text).toContain(
      'dapr_grpc_io_server_completed_rpcs{app_id="observe-app",grpc_server_method="/dapr.proto.runtime.v1.Dapr/GetState",grpc_server_status="OK"} 1',
    );
    expect(text).toContain(
      'dapr_grpc_io_server_completed_rpcs{app_id="observe-app",grpc_server_method="/dapr.proto.runtime.v1.Dapr/GetState",grpc_server_status="InvalidArgument"} 1',
    );
    expect(text).toContain('dapr_grpc_io_server_server_latency_bucket');
  });

  it('records component operations and loads with Dapr names and labels', async () => {
    const text = await scrape();
    expect(text).toContain('dapr_component_state_count{app_id="observe-app",component="memstore",namespace="",operation="get",success="true"} 3');
    expect(text).toContain('dapr_component_state_count{app_id="observe-app",component="memstore",namespace="",operation="set",success="true"} 1');
    expect(text).toContain('dapr_component_secret_count{app_id="observe-app",component="vault",namespace="",operation="get",success="true"} 1');
    expect(text).toContain('dapr_component_state_latencies_bucket');
    expect(text).toContain('dapr_runtime_component_loaded{app_id="observe-app"} 2');
    expect(text).toContain('dapr_runtime_component_init_total{app_id="observe-app",component="state.in-memory"} 1');
  });

  it('exports no dapr_error_code_total while metrics.recordErrorCodes is off, even after errors', async () => {
    const text = await scrape();
    expect(text).toContain('grpc_server_status="InvalidArgument"');
    expect(text).not.toContain('dapr_error_code_total');
  });

  it('labels gRPC latency and sizes by method only, as daprd registers them', async () => {
    const text = await scrape();
    expect(text).toMatch(/dapr_grpc_io_server_server_latency_count\{app_id="observe-app",grpc_server_method="\/dapr.proto.runtime.v1.Dapr\/GetState"\} 2/);
    expect(text).toMatch(/dapr_grpc_io_server_received_bytes_per_rpc_count\{app_id="observe-app",grpc_server_method="\/dapr.proto.runtime.v1.Dapr\/GetState"\} 2/);
  });

  it('exports process metrics', async () => {
    expect(await scrape()).toMatch(/process_resident_memory_bytes \d+/);
  });
});

describe('a real Prometheus', () => {
  it('scrapes the sidecar and answers a query for a Weft metric', async (ctx) => {
    if (!(await requirePrometheus('a real Prometheus scrapes Weft'))) {
      ctx.skip();
      return;
    }
    const prometheus = await startPrometheus([`127.0.0.1:${s.sidecar.metricsPort}`]);
    try {
      const deadline = Date.now() + 20_000;
      let result: Awaited<ReturnType<typeof prometheus.query>> = [];
      while (Date.now() < deadline) {
        result = await prometheus.query('dapr_component_state_count{component="memstore",operation="set"}');
        if (result.length > 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(result).toHaveLength(1);
      expect(result[0]?.metric).toMatchObject({ app_id: 'observe-app', job: 'weft', success: 'true' });
      expect(result[0]?.value[1]).toBe('1');
    } finally {
      await prometheus.stop();
    }
  });
});
