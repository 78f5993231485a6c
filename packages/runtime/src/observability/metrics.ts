/**
 * Prometheus metrics with Dapr's names and labels (`pkg/diagnostics`), on a registry of this sidecar
 * (several sidecars can share a process in tests). Latency histograms are in milliseconds and use
 * the Configuration's `latencyDistributionBuckets`; `metrics.rules` rewrite label values of every
 * metric (see `metric-factory.ts`). Each building block records through a typed recorder here or in
 * the family files beside it (invocation, gRPC client, bulk pub/sub, workflow, error codes); only
 * these files touch prom-client.
 */
import { Registry, collectDefaultMetrics } from './prom-client.js';
import type { ApiError } from '../errors/api-error.js';
import type { FlowDirection, PolicyKind, ResiliencyObserver } from '../resiliency/policy.js';
import { ErrorCodeMetrics } from './error-code-metrics.js';
import { GrpcClientMetrics } from './grpc-client-metrics.js';
import { grpcStatusLabel } from './grpc-status.js';
import { InvocationMetrics } from './invocation-metrics.js';
import type { BoundCounter, BoundHistogram, CounterMetric, GaugeMetric, HistogramMetric } from './metric-factory.js';
import { MetricFactory } from './metric-factory.js';
import { MetricLabelRules } from './metric-rules.js';
import type { MetricRuleSpec } from './metric-rules.js';
import { PubsubBulkMetrics } from './pubsub-bulk-metrics.js';
import { DEFAULT_SIZE_BUCKETS } from './size-buckets.js';
import { WorkflowMetrics } from './workflow-metrics.js';

export { DEFAULT_SIZE_BUCKETS } from './size-buckets.js';

/** Settings of {@link WeftMetrics}. */
export interface MetricsSettings {
  appId: string;
  namespace: string;
  latencyBucketsMs: readonly number[];
  http: { increasedCardinality: boolean; pathMatching: readonly string[]; excludeVerbs: boolean };
  /** `metrics.rules`: label value rewrites per metric. @default [] */
  rules?: readonly MetricRuleSpec[];
  /** `metrics.recordErrorCodes`: export `dapr_error_code_total`. @default false */
  recordErrorCodes?: boolean;
  /** Export `process_*`/`nodejs_*` metrics. @default true */
  processMetrics?: boolean;
}

/** One finished HTTP API request. */
export interface HttpServerRequest {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** One finished gRPC API call. */
export interface GrpcServerCall {
  /** Full method, `/dapr.proto.runtime.v1.Dapr/GetState`. */
  method: string;
  /** Numeric gRPC status code. */
  code: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** Component kinds with `dapr_component_<kind>_count|latencies` metrics. */
export type ComponentMetricKind = 'state' | 'secret' | 'configuration' | 'output_binding' | 'crypto' | 'conversation';

function templateToRegExp(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}/?$`);
}

/** A count and a latency recorded together for one label set. */
interface CountAndLatency {
  count: BoundCounter;
  latency: BoundHistogram;
}

/** The `dapr_grpc_io_server_*` series of one gRPC method (completions per status code). */
interface GrpcServerSeries {
  completed: (code: number) => BoundCounter;
  latency: BoundHistogram;
  received: BoundHistogram;
  sent: BoundHistogram;
}

/** The metrics of one sidecar. */
export class WeftMetrics implements ResiliencyObserver {
  readonly registry = new Registry();
  /** Process metrics asked for and not added yet (see {@link collectProcessMetrics}). */
  private processMetricsPending: boolean;
  private readonly factory: MetricFactory;
  private readonly base: { app_id: string };
  private readonly pathPatterns: { template: string; regex: RegExp }[];
  private readonly componentMetrics = new Map<string, { count: CounterMetric; latency: HistogramMetric; series: Map<string, CountAndLatency> }>();
  // Bound series by the label values that vary, so a request records without building label sets.
  private readonly httpServerSeries = new Map<string, CountAndLatency & { responses: BoundCounter | undefined }>();
  private readonly httpClientSeries = new Map<string, CountAndLatency>();
  private readonly pubsubEgressSeries = new Map<string, CountAndLatency>();
  private readonly pubsubIngressSeries = new Map<string, CountAndLatency>();
  private readonly grpcServerSeries = new Map<string, GrpcServerSeries>();
  private readonly httpRequestBytesSeries: BoundHistogram;
  private readonly httpResponseBytesSeries: BoundHistogram;

  private readonly httpRequests: CounterMetric;
  private readonly httpResponses: CounterMetric | undefined;
  private readonly httpLatency: HistogramMetric;
  private readonly httpRequestBytes: HistogramMetric;
  private readonly httpResponseBytes: HistogramMetric;
  private readonly grpcCompleted: CounterMetric;
  private readonly grpcLatency: HistogramMetric;
  private readonly grpcReceived: HistogramMetric;
  private readonly grpcSent: HistogramMetric;
  private readonly componentLoaded: CounterMetric;
  private readonly componentInit: CounterMetric;
  private readonly componentInitFail: CounterMetric;
  private readonly resiliencyLoaded: CounterMetric;
  private readonly resiliencyCount: CounterMetric;
  private readonly resiliencyActivations: CounterMetric;
  private readonly resiliencyCbState: GaugeMetric;
  private resiliencyResource = { name: '', namespace: '' };
  private stuckWorkflows: (() => number) | undefined;
  private readonly pubsubEgress: { count: CounterMetric; latency: HistogramMetric };
  private readonly pubsubIngress: { count: CounterMetric; latency: HistogramMetric };
  private readonly inputBinding: { count: CounterMetric; latency: HistogramMetric };
  private readonly deliveryErrors: CounterMetric;
  /** `dapr_runtime_service_invocation_*`. */
  readonly invocation: InvocationMetrics;
  /** `dapr_grpc_io_client_*`: calls to a gRPC app and proxied calls to this app. */
  readonly grpcClient: GrpcClientMetrics;
  /** `dapr_component_pubsub_ingress_bulk_*` and `…_egress_bulk_*`. */
  readonly pubsubBulk: PubsubBulkMetrics;
  /** `dapr_runtime_workflow_*`. */
  readonly workflows: WorkflowMetrics;
  /** `dapr_error_code_total`; undefined unless `metrics.recordErrorCodes` is on. */
  readonly errorCodes: ErrorCodeMetrics | undefined;
  private readonly httpClientCompleted: CounterMetric;
  private readonly httpClientLatency: HistogramMetric;

  /** Throws a `MetricRuleError` when a `metrics.rules` expression does not compile. */
  constructor(private readonly settings: MetricsSettings) {
    const rules = settings.rules && settings.rules.length > 0 ? MetricLabelRules.compile(settings.rules) : undefined;
    const factory = new MetricFactory(this.registry, settings.latencyBucketsMs, rules);
    this.factory = factory;
    this.base = { app_id: settings.appId };
    this.invocation = new InvocationMetrics(factory, settings.appId);
    this.grpcClient = new GrpcClientMetrics(factory, settings.appId);
    this.pubsubBulk = new PubsubBulkMetrics(factory, settings.appId, settings.namespace);
    this.workflows = new WorkflowMetrics(factory, settings.appId, settings.namespace);
    this.errorCodes = settings.recordErrorCodes ? new ErrorCodeMetrics(factory, settings.appId) : undefined;
    this.pathPatterns = settings.http.pathMatching.map((template) => ({ template, regex: templateToRegExp(template) }));
    const counter = (name: string, help: string, labelNames: string[]) => factory.counter(name, help, labelNames);
    const histogram = (name: string, help: string, labelNames: string[], b?: readonly number[]) => factory.histogram(name, help, labelNames, b);
    const httpLabels = ['app_id', 'method', 'path', 'status'];
    this.httpRequests = counter('dapr_http_server_request_count', 'Number of HTTP requests started in server.', httpLabels);
    if (settings.http.increasedCardinality) {
      this.httpResponses = counter('dapr_http_server_response_count', 'The number of HTTP responses', httpLabels);
    }
    this.httpLatency = histogram('dapr_http_server_latency', 'HTTP request end-to-end latency in server (ms).', httpLabels);
    this.httpRequestBytes = histogram('dapr_http_server_request_bytes', 'HTTP request size in bytes.', ['app_id'], DEFAULT_SIZE_BUCKETS);
    this.httpResponseBytes = histogram('dapr_http_server_response_bytes', 'HTTP response size in bytes.', ['app_id'], DEFAULT_SIZE_BUCKETS);
    this.httpRequestBytesSeries = this.httpRequestBytes.bind(this.base);
    this.httpResponseBytesSeries = this.httpResponseBytes.bind(this.base);
    // As daprd registers them: only the completed count carries the status.
    const grpcLabels = ['app_id', 'grpc_server_method'];
    this.grpcCompleted = counter('dapr_grpc_io_server_completed_rpcs', 'Count of RPCs by method and status.', [...grpcLabels, 'grpc_server_status']);
    this.grpcLatency = histogram(
      'dapr_grpc_io_server_server_latency',
      'Time between first byte of request received to last byte of response sent, or terminal error.',
      grpcLabels,
    );
    this.grpcReceived = histogram('dapr_grpc_io_server_received_bytes_per_rpc', 'Total bytes received across all messages per RPC.', grpcLabels, DEFAULT_SIZE_BUCKETS);
    this.grpcSent = histogram('dapr_grpc_io_server_sent_bytes_per_rpc', 'Total bytes sent in across all response messages per RPC.', grpcLabels, DEFAULT_SIZE_BUCKETS);
    this.httpClientCompleted = counter('dapr_http_client_completed_count', 'Count of completed requests to the app.', httpLabels);
    this.httpClientLatency = histogram('dapr_http_client_roundtrip_latency', 'Time from the request to the app until its response headers (ms).', httpLabels);
    this.componentLoaded = counter('dapr_runtime_component_loaded', 'The number of successfully loaded components.', ['app_id']);
    this.componentInit = counter('dapr_runtime_component_init_total', 'The number of initialized components.', ['app_id', 'component']);
    this.componentInitFail = counter('dapr_runtime_component_init_fail_total', 'The number of component initialization failures.', [
      'app_id',
      'component',
      'reason',
      'component_name',
    ]);
    const resLabels = ['app_id', 'name', 'policy', 'namespace', 'flow_direction', 'target', 'status'];
    this.resiliencyLoaded = counter('dapr_resiliency_loaded', 'Number of resiliency policies loaded.', ['app_id', 'name', 'namespace']);
    this.resiliencyCount = counter('dapr_resiliency_count', 'Number of times a resiliency policy has been applied to a building block.', resLabels);
    this.resiliencyActivations = counter(
      'dapr_resiliency_activations_total',
      'Number of times a resiliency policy has been activated in a building block after a failure or after a state change.',
      resLabels,
    );
    this.resiliencyCbState = factory.gauge(
      'dapr_resiliency_cb_state',
      'A resiliency policy’s current CircuitBreakerState state. 0 is closed, 1 is half-open, 2 is open, and -1 is unknown.',
      resLabels,
    );
    factory.collectedGauge(
      'weft_workflow_stuck_instances',
      'Workflow instances with work waiting and no progress for WEFT_WORKFLOW_STUCK_AFTER.',
      this.base,
      () => this.stuckWorkflows?.(),
    );
    const componentLabels = ['app_id', 'component', 'namespace'];
    this.pubsubEgress = {
      count: counter('dapr_component_pubsub_egress_count', 'The number of outgoing messages published to the pub/sub component.', [...componentLabels, 'success', 'topic']),
      latency: histogram('dapr_component_pubsub_egress_latencies', 'The latency of the response from the pub/sub component.', [...componentLabels, 'success', 'topic']),
    };
    const ingressLabels = [...componentLabels, 'process_status', 'status', 'topic'];
    this.pubsubIngress = {
      count: counter('dapr_component_pubsub_ingress_count', 'The number of incoming messages arriving from the pub/sub component.', ingressLabels),
      latency: histogram('dapr_component_pubsub_ingress_latencies', 'The consuming app event processing latency.', ingressLabels),
    };
    this.inputBinding = {
      count: counter('dapr_component_input_binding_count', 'The number of incoming events arriving from the input binding component.', [...componentLabels, 'success']),
      latency: histogram('dapr_component_input_binding_latencies', 'The triggering app event processing latency.', [...componentLabels, 'success']),
    };
    this.deliveryErrors = counter(
      'weft_delivery_errors_total',
      'Errors on a delivery path (pub/sub, input bindings, jobs) turned into a retry, a redelivery or a drop; each is also logged with its event id.',
      [...componentLabels, 'block'],
    );
    this.processMetricsPending = settings.processMetrics ?? true;
  }

  /**
   * Adds the process metrics (`process_*`, `nodejs_*`); idempotent. Not in the constructor: prom-client
   * loads them with `@opentelemetry/api` (~25 ms of CPU, `prom-client.ts`), so the sidecar adds them
   * once it has reported ready, and the first scrape adds them if that has not happened yet.
   */
  collectProcessMetrics(): void {
    if (!this.processMetricsPending) return;
    this.processMetricsPending = false;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The `path` label: a matching `pathMatching` template, else the path with increased cardinality, else empty. */
  pathLabel(path: string): string {
    for (const p of this.pathPatterns) if (p.regex.test(path)) return p.template;
    return this.settings.http.increasedCardinality ? withoutKeySegment(path) : '';
  }

  /** Records one HTTP API request (`dapr_http_server_*`). */
  recordHttpServerRequest(r: HttpServerRequest): void {
    const method = this.settings.http.excludeVerbs ? '' : r.method;
    const path = this.pathLabel(r.path);
    const key = `${r.status} ${method} ${path}`;
    let series = this.httpServerSeries.get(key);
    if (!series) {
      const labels = { ...this.base, method, path, status: String(r.status) };
      series = { count: this.httpRequests.bind(labels), responses: this.httpResponses?.bind(labels), latency: this.httpLatency.bind(labels) };
      this.httpServerSeries.set(key, series);
    }
    series.count.inc();
    series.responses?.inc();
    series.latency.observe(r.durationMs);
    this.httpRequestBytesSeries.observe(r.requestBytes);
    this.httpResponseBytesSeries.observe(r.responseBytes);
  }

  /** Records one HTTP call from the sidecar to the app (`dapr_http_client_*`); `status` 0 when it failed without an answer. */
  recordHttpClientRequest(r: { method: string; path: string; status: number; durationMs: number }): void {
    const method = this.settings.http.excludeVerbs ? '' : r.method;
    const path = this.pathLabel(r.path);
    const key = `${r.status} ${method} ${path}`;
    let series = this.httpClientSeries.get(key);
    if (!series) {
      const labels = { ...this.base, method, path, status: String(r.status) };
      series = { count: this.httpClientCompleted.bind(labels), latency: this.httpClientLatency.bind(labels) };
      this.httpClientSeries.set(key, series);
    }
    series.count.inc();
    series.latency.observe(r.durationMs);
  }

  /** Records one gRPC API call (`dapr_grpc_io_server_*`). */
  recordGrpcServerCall(c: GrpcServerCall): void {
    const series = this.grpcServerSeriesOf(c.method);
    series.completed(c.code).inc();
    series.latency.observe(c.durationMs);
    series.received.observe(c.requestBytes);
    series.sent.observe(c.responseBytes);
  }

  /**
   * The series of a gRPC method, bound once: a workflow step is several gRPC calls, and resolving
   * four label sets per call (spreads, series keys) was a few per cent of a busy sidecar's CPU.
   */
  private grpcServerSeriesOf(method: string): GrpcServerSeries {
    let series = this.grpcServerSeries.get(method);
    if (!series) {
      const byMethod = { ...this.base, grpc_server_method: method };
      const byCode = new Map<number, BoundCounter>();
      series = {
        completed: (code) => {
          let counter = byCode.get(code);
          if (!counter) {
            counter = this.grpcCompleted.bind({ ...byMethod, grpc_server_status: grpcStatusLabel(code) });
            byCode.set(code, counter);
          }
          return counter;
        },
        latency: this.grpcLatency.bind(byMethod),
        received: this.grpcReceived.bind(byMethod),
        sent: this.grpcSent.bind(byMethod),
      };
      this.grpcServerSeries.set(method, series);
    }
    return series;
  }

  /**
   * Records one call proxied by `dapr-app-id`, as daprd's stream interceptors do: count and latency,
   * no sizes. The caller's sidecar records it as a server call (`dapr_grpc_io_server_*`), the
   * callee's sidecar, which calls its app, as a client call (`dapr_grpc_io_client_*`).
   */
  recordGrpcProxiedCall(role: 'server' | 'client', method: string, code: number, durationMs: number): void {
    if (role === 'client') {
      this.grpcClient.record(method, code, durationMs);
      return;
    }
    const series = this.grpcServerSeriesOf(method);
    series.completed(code).inc();
    series.latency.observe(durationMs);
  }

  /** Counts an error code the API answered with, when `metrics.recordErrorCodes` is on. */
  recordApiError(err: ApiError): void {
    this.errorCodes?.record(err);
  }

  /** Records one component operation (`dapr_component_<kind>_count|latencies`, labels `operation`, `success`). */
  recordComponentOp(kind: ComponentMetricKind, component: string, operation: string, success: boolean, durationMs: number): void {
    let m = this.componentMetrics.get(kind);
    if (!m) {
      const labelNames = ['app_id', 'component', 'namespace', 'operation', 'success'];
      m = {
        count: this.factory.counter(`dapr_component_${kind}_count`, `The number of operations performed on the ${kind} component.`, labelNames),
        latency: this.factory.histogram(`dapr_component_${kind}_latencies`, `The latency of the operations performed on the ${kind} component (ms).`, labelNames),
        series: new Map(),
      };
      this.componentMetrics.set(kind, m);
    }
    const key = `${success ? 1 : 0}\0${operation}\0${component}`;
    let series = m.series.get(key);
    if (!series) {
      const labels = { ...this.base, component, namespace: this.settings.namespace, operation, success: String(success) };
      series = { count: m.count.bind(labels), latency: m.latency.bind(labels) };
      m.series.set(key, series);
    }
    series.count.inc();
    series.latency.observe(durationMs);
  }

  /** A publish to a pub/sub component (`dapr_component_pubsub_egress_*`). */
  recordPubsubEgress(component: string, topic: string, success: boolean, durationMs: number): void {
    const key = `${success ? 1 : 0}\0${component}\0${topic}`;
    let series = this.pubsubEgressSeries.get(key);
    if (!series) {
      const labels = { ...this.base, component, namespace: this.settings.namespace, success: String(success), topic };
      series = { count: this.pubsubEgress.count.bind(labels), latency: this.pubsubEgress.latency.bind(labels) };
      this.pubsubEgressSeries.set(key, series);
    }
    series.count.inc();
    series.latency.observe(durationMs);
  }

  /** A delivery to the app (`dapr_component_pubsub_ingress_*`); `processStatus` is success, retry or drop. */
  recordPubsubIngress(component: string, topic: string, processStatus: 'success' | 'retry' | 'drop', status: string, durationMs: number): void {
    const key = `${processStatus}\0${status}\0${component}\0${topic}`;
    let series = this.pubsubIngressSeries.get(key);
    if (!series) {
      const labels = { ...this.base, component, namespace: this.settings.namespace, process_status: processStatus, status, topic };
      series = { count: this.pubsubIngress.count.bind(labels), latency: this.pubsubIngress.latency.bind(labels) };
      this.pubsubIngressSeries.set(key, series);
    }
    series.count.inc();
    series.latency.observe(durationMs);
  }

  /** An input binding event handled by the app (`dapr_component_input_binding_*`). */
  recordInputBinding(component: string, success: boolean, durationMs: number): void {
    const labels = { ...this.base, component, namespace: this.settings.namespace, success: String(success) };
    this.inputBinding.count.inc(labels);
    this.inputBinding.latency.observe(labels, durationMs);
  }

  /** One swallowed delivery error (`weft_delivery_errors_total`); see `delivery-errors.ts`. */
  recordDeliveryError(block: string, component: string): void {
    this.deliveryErrors.inc({ ...this.base, component, namespace: this.settings.namespace, block });
  }

  /** Reports `weft_workflow_stuck_instances` from `count` at each scrape. */
  observeWorkflowStuckInstances(count: () => number): void {
    this.stuckWorkflows = count;
  }

  /** A component finished init (`dapr_runtime_component_loaded`, `…_init_total`, `…_init_fail_total`). */

  recordComponentInit(type: string, name: string, failure?: string): void {
    if (failure === undefined) {
      this.componentLoaded.inc(this.base);
      this.componentInit.inc({ ...this.base, component: type });
    } else {
      this.componentInitFail.inc({ ...this.base, component: type, reason: failure, component_name: name });
    }
  }

  /** A Resiliency document was loaded (`dapr_resiliency_loaded`). */
  recordResiliencyLoaded(name: string, namespace: string): void {
    this.resiliencyLoaded.inc({ ...this.base, name, namespace });
  }

  /**
   * The Resiliency resource whose name and namespace label `dapr_resiliency_*` samples: daprd labels
   * them with the last resource it loaded (its `metadata.namespace`, not the app's).
   */
  setResiliencyResource(name: string, namespace: string): void {
    this.resiliencyResource = { name, namespace };
  }

  /** {@link ResiliencyObserver}: a policy applied to a call. */
  executed(policy: PolicyKind, direction: FlowDirection, target: string, status: string): void {
    this.resiliencyCount.inc(this.resiliencyLabels(policy, direction, target, status));
  }

  /** {@link ResiliencyObserver}: a policy acted. */
  activated(policy: PolicyKind, direction: FlowDirection, target: string, status: string): void {
    this.resiliencyActivations.inc(this.resiliencyLabels(policy, direction, target, status));
    if (policy === 'circuitbreaker') {
      const value = status === 'closed' ? 0 : status === 'half-open' ? 1 : status === 'open' ? 2 : -1;
      this.resiliencyCbState.set(this.resiliencyLabels(policy, direction, target, ''), value);
    }
  }

  /** The exposition text. */
  async render(): Promise<string> {
    this.collectProcessMetrics();
    return this.registry.metrics();
  }

  /** The exposition content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  private resiliencyLabels(policy: PolicyKind, direction: FlowDirection, target: string, status: string) {
    const { name, namespace } = this.resiliencyResource;
    return { ...this.base, name, policy, namespace, flow_direction: direction, target, status };
  }
}

/**
 * Drops the user key from state and secret paths (`/v1.0/state/store/key` → `/v1.0/state/store`),
 * as daprd's `convertPathToMetricLabel` does (bulk and transaction paths collapse the same way): a
 * label per key would grow without bound.
 */
export function withoutKeySegment(path: string): string {
  // ['', 'v1.0', 'state' | 'secrets', store, key]: keep the first four segments.
  return KEY_SEGMENT.exec(path)?.[1] ?? path;
}

const KEY_SEGMENT = /^(\/[^/]*\/(?:state|secrets)\/[^/]*)\/[^/]*$/;
