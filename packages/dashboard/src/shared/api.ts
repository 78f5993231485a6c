/**
 * The dashboard server's HTTP API, defined once for the server (`server/`) and the browser app
 * (`src/`). The browser reaches sidecars only through this server: it adds each sidecar's API token,
 * so tokens never reach the page. Not in the contract: the sidecar APIs themselves (Dapr's, plus the
 * Weft admin API in `@weft/runtime`'s `admin/types.ts`), which the proxy passes through unchanged.
 */

/** Where a sidecar was found. */
export type SidecarSource = 'registry' | 'flag';

/** One sidecar the dashboard can reach. */
export interface SidecarSummary {
  /** Stable id in the dashboard's URLs: the app id, or `host:port` for `--sidecar` addresses. */
  id: string;
  appId: string;
  /** The sidecar's HTTP API base URL. */
  httpUrl: string;
  source: SidecarSource;
  /** Whether `/v1.0/healthz` answered 204 at the last check. */
  healthy: boolean;
  /** Why it is not healthy (the error or status), when it is not. */
  healthError?: string;
  grpcPort?: number;
  httpPort?: number;
  appPort?: number;
  /** The sidecar's process id (registry only). */
  pid?: number;
  /** The app's process id, for apps started with `weft run`. */
  appPid?: number;
  /** ISO time the sidecar registered (registry) or answered first (flag). */
  startedAt?: string;
  /** The app command, for `weft run`. */
  command?: string;
  /** Log files of the app and the sidecar, for apps started by `weft run -f`. */
  logs: { app: boolean; daprd: boolean };
  /** Whether the dashboard samples this sidecar's Prometheus metrics. */
  metrics: boolean;
}

/** `GET /api/sidecars`. */
export interface SidecarsResponse {
  sidecars: SidecarSummary[];
  /** How the dashboard finds sidecars, to explain an empty list. */
  discovery: { registryDir: string; explicit: string[] };
}

/** `GET /api/sidecars/{id}/workflow-counts`: instances per runtime status under the filters. */
export interface WorkflowCountsResponse {
  counts: Record<string, number>;
  total: number;
  /** True when counting stopped at `limit` instances (the counts are then lower bounds). */
  capped: boolean;
}

/** One status × workflow-name cell of the sidecar's `GET /v1.0-weft/admin/workflows/health`. */
export interface WorkflowHealthRow {
  name: string;
  status: string;
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The sidecar's `GET /v1.0-weft/admin/workflows/health?windowSeconds=`. */
export interface WorkflowHealthResponse {
  since: string;
  until: string;
  windowSeconds: number;
  rows: WorkflowHealthRow[];
}

/** A resource with its YAML, as the sidecar's `GET /v1.0-weft/admin/resources` reports it. */
export interface AdminResource {
  name: string;
  file?: string;
  yaml: string;
}

/** The sidecar's `GET /v1.0-weft/admin/resources`: what is in effect besides the components. */
export interface AdminResources {
  appId: string;
  configuration: AdminResource & { isDefault: boolean };
  resiliency: AdminResource[];
  subscriptions: (AdminResource & {
    pubsubName: string;
    topic: string;
    type: 'declarative' | 'programmatic';
    rules: { match: string; path: string }[];
    deadLetterTopic?: string;
  })[];
  accessControl?: {
    defaultAction: string;
    trustDomain: string;
    policies: { appId: string; defaultAction: string; trustDomain: string; namespace: string; operations: { name: string; httpVerb: string[]; action: string }[] }[];
    yaml: string;
  };
}

/** `GET /api/sidecars/{id}/app-logs?source=app|daprd`: the tail of a `weft run -f` log file. */
export interface AppLogsResponse {
  source: 'app' | 'daprd';
  path: string;
  lines: string[];
}

/** What the server pushes on `GET /api/events` (server-sent events, `data:` is this JSON). */
export type DashboardEvent =
  /** The sidecar list or a sidecar's health changed. */
  | { type: 'sidecars'; sidecars: SidecarSummary[] }
  /** Periodic: live views refetch. `at` is the server's ISO time. */
  | { type: 'tick'; at: string };

/** Dapr's `GET /v1.0/metadata`, the fields the dashboard shows. */
export interface DaprMetadata {
  id: string;
  runtimeVersion?: string;
  enabledFeatures?: string[];
  actors?: { type: string; count: number }[];
  components?: { name: string; type: string; version: string; capabilities?: string[] }[];
  httpEndpoints?: { name: string }[];
  subscriptions?: {
    pubsubname: string;
    topic: string;
    deadLetterTopic?: string;
    metadata?: Record<string, string>;
    /** Dapr's metadata lists rules as an array (older versions nested them under `rules.rules`). */
    rules?: { match?: string; path: string }[] | { rules?: { match?: string; path: string }[] };
    type?: string;
  }[];
  extended?: Record<string, string>;
  appConnectionProperties?: {
    port?: number;
    protocol?: string;
    channelAddress?: string;
    maxConcurrency?: number;
    health?: { healthCheckPath?: string; healthProbeInterval?: string; healthProbeTimeout?: string; healthThreshold?: number };
  };
  workflows?: { connectedWorkers?: number };
}

/** A workflow instance as the sidecar's workflow API returns it. */
export interface WorkflowInstance {
  instanceID: string;
  workflowName: string;
  createdAt: string;
  lastUpdatedAt: string;
  runtimeStatus: string;
  properties?: Record<string, string>;
  stuck?: boolean;
  stuckSince?: string;
  waitingForWorker?: boolean;
}

/** `GET /v1.0/workflows/dapr` (Weft's list extension). */
export interface WorkflowListResponse {
  instances: WorkflowInstance[];
  continuationToken?: string;
}

/** One event of `GET /v1.0/workflows/dapr/{id}/history`. */
export interface WorkflowHistoryEvent {
  eventId: number;
  timestamp: string;
  type: string;
  [field: string]: unknown;
}

/** `GET /v1.0/workflows/dapr/{id}/history`. */
export interface WorkflowHistoryResponse {
  instanceID: string;
  history: WorkflowHistoryEvent[];
}

/** The runtime statuses, in the order the dashboard shows them. */
export const WORKFLOW_STATUSES = ['RUNNING', 'PENDING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'TERMINATED'] as const;

/** A subscription's routing rules, whichever shape the sidecar sent. */
export function subscriptionRules(s: NonNullable<DaprMetadata['subscriptions']>[number]): { match?: string; path: string }[] {
  if (!s.rules) return [];
  return Array.isArray(s.rules) ? s.rules : (s.rules.rules ?? []);
}

/** One sample of a sidecar's metrics, as rates over the interval since the previous sample. */
export interface MetricsPoint {
  /** Unix time in seconds (the end of the interval). */
  t: number;
  /** HTTP + gRPC API requests per second. */
  requestRate: number;
  /** Of those, answered with an error (HTTP ≥ 500 or 4xx other than 404; gRPC not OK), per second. */
  errorRate: number;
  /** 99th percentile of HTTP API latency over the interval, in ms (null without requests). */
  p99Ms: number | null;
  /** Workflow executions finished per second. */
  workflowRate: number;
  /** Activity executions finished per second. */
  activityRate: number;
  /** Pub/sub deliveries to the app per second. */
  deliveryRate: number;
}

/** `GET /api/sidecars/{id}/metrics`: the samples the dashboard took since it started (last 30 min). */
export interface MetricsResponse {
  /** False when the sidecar's metrics endpoint is unknown (sidecars given by address) or off. */
  available: boolean;
  reason?: string;
  points: MetricsPoint[];
}

/** A node of the system graph: an app or a pub/sub topic. */
export interface GraphNode {
  id: string;
  kind: 'app' | 'topic';
  label: string;
  healthy?: boolean;
}

/** Traffic between two nodes over the last minute, from the sidecars' metrics. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: 'invoke' | 'publish' | 'deliver';
  /** Per second. */
  rate: number;
  /** Per second. */
  errorRate: number;
  /** Invocation round-trip p99 in ms (invocations only; null without data). */
  p99Ms: number | null;
}

/** `GET /api/graph`: which app invokes which, and publishes to or receives from which topic. */
export interface GraphResponse {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Seconds the rates are measured over. */
  windowSeconds: number;
}
