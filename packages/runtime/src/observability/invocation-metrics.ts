/**
 * Service invocation metrics with daprd's names and labels (`dapr_runtime_service_invocation_*`):
 * the caller's sidecar counts requests sent and responses received (with latency), the callee's
 * sidecar counts requests received and responses sent. `status` is the HTTP status of the answer
 * (500 when the call failed without one); `type` is the caller's protocol toward the callee.
 *
 * daprd's label names read oddly (the caller labels a response with `src_app_id` = the callee), and
 * are kept as they are so dashboards built for daprd work unchanged.
 */
import type { BoundCounter, BoundHistogram, CounterMetric, HistogramMetric, MetricFactory } from './metric-factory.js';

/** The series one caller-side answer status records into. */
interface ReceivedSeries {
  count: BoundCounter;
  latency: BoundHistogram;
}

/**
 * The invocation recorders of one sidecar. Each (peer, status, type) combination is bound once and
 * kept: the label sets are few (apps this one talks to × statuses seen) and prom-client keeps a
 * series for each of them anyway.
 */
export class InvocationMetrics {
  private readonly reqSent: CounterMetric;
  private readonly reqRecv: CounterMetric;
  private readonly resSent: CounterMetric;
  private readonly resRecv: CounterMetric;
  private readonly resRecvLatency: HistogramMetric;
  private readonly appId: string;
  private readonly sentTo = new Map<string, BoundCounter>();
  private readonly receivedFrom = new Map<string, ReceivedSeries>();
  private readonly requestsFrom = new Map<string, BoundCounter>();
  private readonly answersTo = new Map<string, BoundCounter>();

  constructor(factory: MetricFactory, appId: string) {
    this.appId = appId;
    this.reqSent = factory.counter('dapr_runtime_service_invocation_req_sent_total', 'Number of requests sent to remote app.', ['app_id', 'dst_app_id', 'type']);
    this.reqRecv = factory.counter('dapr_runtime_service_invocation_req_recv_total', 'Number of requests received from remote app.', ['app_id', 'src_app_id']);
    this.resSent = factory.counter('dapr_runtime_service_invocation_res_sent_total', 'Number of responses sent to remote app.', ['app_id', 'dst_app_id', 'status']);
    const received = ['app_id', 'src_app_id', 'status', 'type'];
    this.resRecv = factory.counter('dapr_runtime_service_invocation_res_recv_total', 'Number of responses received from remote app.', received);
    this.resRecvLatency = factory.histogram('dapr_runtime_service_invocation_res_recv_latency_ms', 'Round trip latency for service invocation.', received);
  }

  /** Caller side: a request leaves for `callee`. */
  requestSent(callee: string, type: 'http' | 'grpc' = 'http'): void {
    const key = `${type} ${callee}`;
    let series = this.sentTo.get(key);
    if (!series) {
      series = this.reqSent.bind({ app_id: this.appId, dst_app_id: callee, type });
      this.sentTo.set(key, series);
    }
    series.inc();
  }

  /** Caller side: the answer of `callee` arrived (or the call failed, with status 500). */
  responseReceived(callee: string, status: number, durationMs: number, type: 'http' | 'grpc' = 'http'): void {
    const key = `${type} ${status} ${callee}`;
    let series = this.receivedFrom.get(key);
    if (!series) {
      const labels = { app_id: this.appId, src_app_id: callee, status: String(status), type };
      series = { count: this.resRecv.bind(labels), latency: this.resRecvLatency.bind(labels) };
      this.receivedFrom.set(key, series);
    }
    series.count.inc();
    series.latency.observe(durationMs);
  }

  /** Callee side: a request from `caller` arrived. */
  requestReceived(caller: string): void {
    let series = this.requestsFrom.get(caller);
    if (!series) {
      series = this.reqRecv.bind({ app_id: this.appId, src_app_id: caller });
      this.requestsFrom.set(caller, series);
    }
    series.inc();
  }

  /** Callee side: the answer to `caller` went out. */
  responseSent(caller: string, status: number): void {
    const key = `${status} ${caller}`;
    let series = this.answersTo.get(key);
    if (!series) {
      series = this.resSent.bind({ app_id: this.appId, dst_app_id: caller, status: String(status) });
      this.answersTo.set(key, series);
    }
    series.inc();
  }
}
