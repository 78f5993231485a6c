/**
 * Service invocation metrics with daprd's names and labels (`dapr_runtime_service_invocation_*`):
 * the caller's sidecar counts requests sent and responses received (with latency), the callee's
 * sidecar counts requests received and responses sent. `status` is the HTTP status of the answer
 * (500 when the call failed without one); `type` is the caller's protocol toward the callee.
 *
 * daprd's label names read oddly (the caller labels a response with `src_app_id` = the callee), and
 * are kept as they are so dashboards built for daprd work unchanged.
 */
import type { CounterMetric, HistogramMetric, MetricFactory } from './metric-factory.js';

/** The invocation recorders of one sidecar. */
export class InvocationMetrics {
  private readonly reqSent: CounterMetric;
  private readonly reqRecv: CounterMetric;
  private readonly resSent: CounterMetric;
  private readonly resRecv: CounterMetric;
  private readonly resRecvLatency: HistogramMetric;
  private readonly base: { app_id: string };

  constructor(factory: MetricFactory, appId: string) {
    this.base = { app_id: appId };
    this.reqSent = factory.counter('dapr_runtime_service_invocation_req_sent_total', 'Number of requests sent to remote app.', ['app_id', 'dst_app_id', 'type']);
    this.reqRecv = factory.counter('dapr_runtime_service_invocation_req_recv_total', 'Number of requests received from remote app.', ['app_id', 'src_app_id']);
    this.resSent = factory.counter('dapr_runtime_service_invocation_res_sent_total', 'Number of responses sent to remote app.', ['app_id', 'dst_app_id', 'status']);
    const received = ['app_id', 'src_app_id', 'status', 'type'];
    this.resRecv = factory.counter('dapr_runtime_service_invocation_res_recv_total', 'Number of responses received from remote app.', received);
    this.resRecvLatency = factory.histogram('dapr_runtime_service_invocation_res_recv_latency_ms', 'Round trip latency for service invocation.', received);
  }

  /** Caller side: a request leaves for `callee`. */
  requestSent(callee: string, type: 'http' | 'grpc' = 'http'): void {
    this.reqSent.inc({ ...this.base, dst_app_id: callee, type });
  }

  /** Caller side: the answer of `callee` arrived (or the call failed, with status 500). */
  responseReceived(callee: string, status: number, durationMs: number, type: 'http' | 'grpc' = 'http'): void {
    const labels = { ...this.base, src_app_id: callee, status: String(status), type };
    this.resRecv.inc(labels);
    this.resRecvLatency.observe(labels, durationMs);
  }

  /** Callee side: a request from `caller` arrived. */
  requestReceived(caller: string): void {
    this.reqRecv.inc({ ...this.base, src_app_id: caller });
  }

  /** Callee side: the answer to `caller` went out. */
  responseSent(caller: string, status: number): void {
    this.resSent.inc({ ...this.base, dst_app_id: caller, status: String(status) });
  }
}
