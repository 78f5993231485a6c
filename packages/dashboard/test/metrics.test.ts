import { describe, expect, it } from 'vitest';
import { edgesBetween, parsePrometheus, pointBetween, quantileBetween, totalsOf } from '../server/metrics.js';

const scrape = (requests: number, errors: number, buckets: [string, number][], workflows = 0) =>
  [
    '# HELP dapr_http_server_request_count Number of HTTP requests started in server.',
    '# TYPE dapr_http_server_request_count counter',
    `dapr_http_server_request_count{app_id="a",method="GET",path="/v1.0/state/s",status="200"} ${requests}`,
    `dapr_http_server_request_count{app_id="a",method="POST",path="/v1.0/state/s",status="500"} ${errors}`,
    `dapr_http_server_request_count{app_id="a",method="GET",path="/v1.0/state/s",status="404"} 7`,
    `dapr_grpc_io_server_completed_rpcs{app_id="a",grpc_server_method="x",grpc_server_status="OK"} 3`,
    ...buckets.map(([le, n]) => `dapr_http_server_latency_bucket{app_id="a",method="GET",path="/p",status="200",le="${le}"} ${n}`),
    `dapr_runtime_workflow_execution_count{app_id="a",workflow_name="w",status="success"} ${workflows}`,
    'weft_label_with_escapes{msg="a \\"quoted\\" \\\\ value"} 1',
  ].join('\n');

describe('dashboard metrics sampling', () => {
  it('parses Prometheus text with labels and escapes', () => {
    const samples = parsePrometheus(scrape(1, 0, [['+Inf', 1]]));
    expect(samples.find((s) => s.name === 'weft_label_with_escapes')?.labels['msg']).toBe('a "quoted" \\ value');
    expect(samples.filter((s) => s.name === 'dapr_http_server_request_count')).toHaveLength(3);
  });

  it('counts requests and errors across HTTP and gRPC, a 404 not being an error', () => {
    const t = totalsOf(parsePrometheus(scrape(10, 2, [], 4)));
    expect(t).toMatchObject({ requests: 10 + 2 + 7 + 3, errors: 2, workflows: 4 });
  });

  it('turns two scrapes into rates and a p99 from the bucket deltas', () => {
    const before = totalsOf(parsePrometheus(scrape(10, 0, [['5', 10], ['50', 10], ['+Inf', 10]])));
    const after = totalsOf(parsePrometheus(scrape(30, 4, [['5', 10], ['50', 110], ['+Inf', 110]], 2)));
    const p = pointBetween(before, after, 2, 1000);
    expect(p).toMatchObject({ t: 1000, requestRate: (20 + 4) / 2, errorRate: 2, workflowRate: 1 });
    // All 100 new observations fell in (5, 50]: the 99th lies near the top of that bucket.
    expect(p.p99Ms).toBeCloseTo(5 + 45 * 0.99, 5);
    expect(quantileBetween(before.buckets, before.buckets, 0.99)).toBeNull();
  });

  it('turns invocation and pub/sub counters into graph edges with rates, errors and p99', () => {
    const text = (n: number) =>
      [
        `dapr_runtime_service_invocation_res_recv_total{app_id="a",src_app_id="b",status="200",type="unary"} ${n}`,
        `dapr_runtime_service_invocation_res_recv_total{app_id="a",src_app_id="b",status="500",type="unary"} ${n / 2}`,
        `dapr_runtime_service_invocation_res_recv_latency_ms_bucket{app_id="a",src_app_id="b",status="200",type="unary",le="10"} ${n}`,
        `dapr_runtime_service_invocation_res_recv_latency_ms_bucket{app_id="a",src_app_id="b",status="200",type="unary",le="+Inf"} ${n}`,
        `dapr_component_pubsub_egress_count{app_id="a",component="ps",namespace="",success="true",topic="t"} ${n}`,
        `dapr_component_pubsub_ingress_count{app_id="a",component="ps",namespace="",process_status="drop",status="drop",topic="t"} ${n}`,
      ].join('\n');
    const edges = edgesBetween('a', totalsOf(parsePrometheus(text(0))), totalsOf(parsePrometheus(text(10))), 10);
    expect(edges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: 'app:a', to: 'app:b', kind: 'invoke', rate: 1.5, errorRate: 0.5 }),
        expect.objectContaining({ from: 'app:a', to: 'topic:t', kind: 'publish', rate: 1, errorRate: 0, p99Ms: null }),
        expect.objectContaining({ from: 'topic:t', to: 'app:a', kind: 'deliver', rate: 1, errorRate: 1 }),
      ]),
    );
    expect(edges.find((e) => e.kind === 'invoke')?.p99Ms).toBeCloseTo(9.9, 5);
    expect(edgesBetween('a', totalsOf(parsePrometheus(text(10))), totalsOf(parsePrometheus(text(10))), 10)).toEqual([]);
  });
});
