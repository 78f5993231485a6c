/**
 * gRPC client metrics with daprd's names and labels (`pkg/diagnostics/grpc_monitoring.go`) for the
 * calls the sidecar makes over gRPC: `AppCallback` calls to a gRPC app (through a grpc-js client
 * interceptor) and proxied calls it forwards to its app (`dapr-app-id` proxying, callee side).
 *
 * Labels as daprd records them: `grpc_client_method` on all four, `grpc_client_status` (Go's code
 * name, `OK`, `NotFound` …) on the completed count and the round-trip latency only. Proxied streams
 * record the count and latency but no sizes, as in daprd. App health probes are not counted here
 * (daprd gives them metrics of their own).
 */
import * as grpc from '@grpc/grpc-js';
import { grpcStatusLabel } from './grpc-status.js';
import type { CounterMetric, HistogramMetric, MetricFactory } from './metric-factory.js';
import { DEFAULT_SIZE_BUCKETS } from './size-buckets.js';

/** The gRPC client recorders of one sidecar. */
export class GrpcClientMetrics {
  private readonly completed: CounterMetric;
  private readonly latency: HistogramMetric;
  private readonly sent: HistogramMetric;
  private readonly received: HistogramMetric;
  private readonly base: { app_id: string };

  constructor(factory: MetricFactory, appId: string) {
    this.base = { app_id: appId };
    const withStatus = ['app_id', 'grpc_client_method', 'grpc_client_status'];
    const methodOnly = ['app_id', 'grpc_client_method'];
    this.completed = factory.counter('dapr_grpc_io_client_completed_rpcs', 'Count of RPCs by method and status.', withStatus);
    this.latency = factory.histogram(
      'dapr_grpc_io_client_roundtrip_latency',
      'Time between first byte of request sent to last byte of response received, or terminal error.',
      withStatus,
    );
    this.sent = factory.histogram('dapr_grpc_io_client_sent_bytes_per_rpc', 'Total bytes sent across all request messages per RPC.', methodOnly, DEFAULT_SIZE_BUCKETS);
    this.received = factory.histogram(
      'dapr_grpc_io_client_received_bytes_per_rpc',
      'Total bytes received across all response messages per RPC.',
      methodOnly,
      DEFAULT_SIZE_BUCKETS,
    );
  }

  /** A finished unary or streaming call; sizes are omitted for proxied streams. */
  record(method: string, code: number, durationMs: number, bytes?: { sent: number; received: number }): void {
    const labels = { ...this.base, grpc_client_method: method, grpc_client_status: grpcStatusLabel(code) };
    this.completed.inc(labels);
    this.latency.observe(labels, durationMs);
    if (bytes) {
      const byMethod = { ...this.base, grpc_client_method: method };
      this.sent.observe(byMethod, bytes.sent);
      this.received.observe(byMethod, bytes.received);
    }
  }

  /**
   * A grpc-js client interceptor recording every call of the client it is given to. Sizes are the
   * serialised message bytes: grpc-js builds a fresh method definition per call and (de)serialises
   * through it below the interceptors, so wrapping its two functions counts the bytes without
   * encoding anything twice.
   */
  interceptor(): grpc.Interceptor {
    return (options, nextCall) => {
      const definition = options.method_definition;
      const method = definition.path;
      let sent = 0;
      let received = 0;
      const serialize = definition.requestSerialize;
      const deserialize = definition.responseDeserialize;
      definition.requestSerialize = (value: unknown) => {
        const bytes = serialize(value);
        sent += bytes.length;
        return bytes;
      };
      definition.responseDeserialize = (bytes: Buffer) => {
        received += bytes.length;
        return deserialize(bytes) as unknown;
      };
      let started = 0;
      return new grpc.InterceptingCall(nextCall(options), {
        start: (metadata, listener, next) => {
          started = performance.now();
          next(metadata, {
            onReceiveStatus: (status, nextStatus) => {
              this.record(method, status.code, performance.now() - started, { sent, received });
              nextStatus(status);
            },
          });
        },
      });
    };
  }
}
