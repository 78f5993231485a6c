/**
 * Samples local sidecars' Prometheus metrics (`/metrics` on their metrics port, published in the
 * registry) on every refresh and keeps rates per interval for the charts: API request and error
 * rates, HTTP p99 latency from the histogram buckets, workflow, activity and delivery throughput.
 */
import type { GraphEdge, MetricsPoint, MetricsResponse } from '../src/shared/api.js';

/** One parsed sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (comments skipped; escaped label values unescaped). */
export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    const m = line.exec(raw);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(label)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    if (Number.isFinite(value) || m[3] === '+Inf') samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The cumulative totals the rates are computed from. */
export interface Totals {
  requests: number;
  errors: number;
  workflows: number;
  activities: number;
  deliveries: number;
  /** Cumulative HTTP latency bucket counts by upper bound (ms). */
  buckets: Map<number, number>;
  /** Per edge key (`kind|target`): cumulative count, errors and (invocations) latency buckets. */
  edges: Map<string, { count: number; errors: number; buckets: Map<number, number> }>;
}

const isError = (status: string) => {
  const code = Number(status);
  return code >= 500 || (code >= 400 && code !== 404);
};

/** Sums the counters the dashboard charts. */
export function totalsOf(samples: readonly PromSample[]): Totals {
  const t: Totals = { requests: 0, errors: 0, workflows: 0, activities: 0, deliveries: 0, buckets: new Map(), edges: new Map() };
  const edge = (key: string) => {
    let e = t.edges.get(key);
    if (!e) t.edges.set(key, (e = { count: 0, errors: 0, buckets: new Map() }));
    return e;
  };
  const ok = (status: string) => status === '' || status === 'OK' || status === '0' || /^2\d\d$/.test(status);
  for (const s of samples) {
    switch (s.name) {
      case 'dapr_http_server_request_count':
      case 'dapr_http_server_request_count_total':
        t.requests += s.value;
        if (isError(s.labels['status'] ?? '')) t.errors += s.value;
        break;
      case 'dapr_grpc_io_server_completed_rpcs':
      case 'dapr_grpc_io_server_completed_rpcs_total':
        t.requests += s.value;
        if ((s.labels['grpc_server_status'] ?? 'OK') !== 'OK') t.errors += s.value;
        break;
      case 'dapr_runtime_workflow_execution_count':
      case 'dapr_runtime_workflow_execution_count_total':
        t.workflows += s.value;
        break;
      case 'dapr_runtime_workflow_activity_execution_count':
      case 'dapr_runtime_workflow_activity_execution_count_total':
        t.activities += s.value;
        break;
      case 'dapr_component_pubsub_ingress_count':
      case 'dapr_component_pubsub_ingress_count_total': {
        t.deliveries += s.value;
        const e = edge(`deliver|${s.labels['topic'] ?? ''}`);
        e.count += s.value;
        if ((s.labels['status'] ?? 'success') !== 'success') e.errors += s.value;
        break;
      }
      case 'dapr_component_pubsub_egress_count':
      case 'dapr_component_pubsub_egress_count_total': {
        const e = edge(`publish|${s.labels['topic'] ?? ''}`);
        e.count += s.value;
        if (s.labels['success'] === 'false') e.errors += s.value;
        break;
      }
      // On the caller, the callee is the response's `src_app_id` (Dapr's naming).
      case 'dapr_runtime_service_invocation_res_recv_total': {
        const e = edge(`invoke|${s.labels['src_app_id'] ?? ''}`);
        e.count += s.value;
        if (!ok(s.labels['status'] ?? '')) e.errors += s.value;
        break;
      }
      case 'dapr_runtime_service_invocation_res_recv_latency_ms_bucket': {
        const e = edge(`invoke|${s.labels['src_app_id'] ?? ''}`);
        const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
        e.buckets.set(le, (e.buckets.get(le) ?? 0) + s.value);
        break;
      }
      case 'dapr_http_server_latency_bucket': {
        const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
        t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value);
        break;
      }
      default:
        break;
    }
  }
  return t;
}

/** The q-quantile of the observations between two cumulative histograms (linear in the bucket). */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  for (const [i, bound] of bounds.entries()) {
    if (counts[i]! >= rank) {
      if (!Number.isFinite(bound)) return lower;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = counts[i]! - below;
      return inBucket <= 0 ? bound : lower + ((bound - lower) * (rank - below)) / inBucket;
    }
    lower = bound;
  }
  return lower;
}

/** A point from two consecutive totals. */
export function pointBetween(before: Totals, after: Totals, seconds: number, t: number): MetricsPoint {
  const rate = (a: number, b: number) => Math.max(0, b - a) / seconds;
  return {
    t,
    requestRate: rate(before.requests, after.requests),
    errorRate: rate(before.errors, after.errors),
    p99Ms: quantileBetween(before.buckets, after.buckets, 0.99),
    workflowRate: rate(before.workflows, after.workflows),
    activityRate: rate(before.activities, after.activities),
    deliveryRate: rate(before.deliveries, after.deliveries),
  };
}

/** The edges of one app between two totals: `from` is the app, targets are app ids or topics. */
export function edgesBetween(appId: string, before: Totals, after: Totals, seconds: number): GraphEdge[] {
  const out: GraphEdge[] = [];
  for (const [key, now] of after.edges) {
    const [kind, target] = key.split('|') as ['invoke' | 'publish' | 'deliver', string];
    const then = before.edges.get(key) ?? { count: 0, errors: 0, buckets: new Map<number, number>() };
    const count = now.count - then.count;
    if (count <= 0) continue;
    const topic = `topic:${target}`;
    out.push({
      from: kind === 'deliver' ? topic : `app:${appId}`,
      to: kind === 'invoke' ? `app:${target}` : kind === 'publish' ? topic : `app:${appId}`,
      kind,
      rate: count / seconds,
      errorRate: Math.max(0, now.errors - then.errors) / seconds,
      p99Ms: kind === 'invoke' ? quantileBetween(then.buckets, now.buckets, 0.99) : null,
    });
  }
  return out;
}

/** Keeps the last 30 minutes of points per sidecar. */
export class MetricsSampler {
  private readonly last = new Map<string, { totals: Totals; at: number }>();
  /** Totals of the last minute per sidecar, oldest first: the graph's window. */
  private readonly window = new Map<string, { totals: Totals; at: number }[]>();
  private readonly series = new Map<string, MetricsPoint[]>();
  private readonly errors = new Map<string, string>();

  /** @param keepSeconds history kept per sidecar. */
  constructor(private readonly keepSeconds = 1800) {}

  /** Scrapes one sidecar's metrics URL and adds a point. */
  async sample(id: string, url: string): Promise<void> {
    let text: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      this.errors.set(id, `cannot read ${url}: ${(err as Error).message}`);
      return;
    }
    this.errors.delete(id);
    const now = Date.now();
    const totals = totalsOf(parsePrometheus(text));
    const previous = this.last.get(id);
    this.last.set(id, { totals, at: now });
    const window = this.window.get(id) ?? [];
    window.push({ totals, at: now });
    while (window.length > 2 && window[0]!.at < now - 60_000) window.shift();
    this.window.set(id, window);
    if (!previous) return;
    const points = this.series.get(id) ?? [];
    points.push(pointBetween(previous.totals, totals, Math.max(0.001, (now - previous.at) / 1000), Math.round(now / 1000)));
    const cutoff = now / 1000 - this.keepSeconds;
    while (points.length > 0 && points[0]!.t < cutoff) points.shift();
    this.series.set(id, points);
  }

  /** The edges of one app over the last minute. */
  edges(id: string, appId: string): GraphEdge[] {
    const window = this.window.get(id) ?? [];
    const first = window[0];
    const last = window.at(-1);
    if (!first || !last || first === last) return [];
    return edgesBetween(appId, first.totals, last.totals, (last.at - first.at) / 1000);
  }

  /** The points of one sidecar. */
  response(id: string, metricsUrl: string | undefined): MetricsResponse {
    if (!metricsUrl) return { available: false, reason: 'the metrics port of this sidecar is unknown (only sidecars of the local registry publish it)', points: [] };
    const error = this.errors.get(id);
    return { available: true, ...(error ? { reason: error } : {}), points: this.series.get(id) ?? [] };
  }
}
