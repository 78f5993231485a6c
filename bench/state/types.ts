/**
 * Shapes shared by the state benchmark's orchestrator (`run.ts`) and its load workers (`worker.ts`),
 * which talk over Node's IPC channel.
 */

/** The stores the benchmark knows. */
export type StoreId = 'sqlite' | 'redis' | 'postgres';

/** Who serves the requests: Weft's HTTP API, or the store's own client library in the worker. */
export type Target = 'weft' | 'raw';

/** The measured operations. */
export type OpName = 'save' | 'get';

/**
 * How load is offered. `closed`: a fixed number of requests always in flight (throughput and
 * latency at saturation). `open`: a fixed request rate, as Dapr's published benchmark does.
 */
export type LoadMode = 'closed' | 'open';

/** Connection facts a worker needs to reach one store directly. */
export interface RawStoreConfig {
  store: StoreId;
  /** sqlite: the database file. */
  filePath?: string;
  /** sqlite and postgres: the table. */
  tableName?: string;
  /** postgres: a libpq-style connection string. */
  connectionString?: string;
  /** redis: host and port. */
  redisHost?: string;
  redisPort?: number;
}

/** What the orchestrator asks one worker to run. */
export interface WorkerJob {
  target: Target;
  /** Key prefix the worker writes under (Weft adds its own `appid||` prefix on top). */
  keyPrefix: string;
  /** For `weft`: the sidecar's HTTP port, store name and pid (for its CPU time). */
  weft?: { httpPort: number; storeName: string; pid: number };
  /** For `raw`: how to reach the store. */
  raw?: RawStoreConfig;
  settings: BenchSettings;
}

/** Knobs of one run; recorded in results.json. */
export interface BenchSettings {
  /** Bytes of each stored value (the JSON text as stored). */
  valueBytes: number;
  /** Distinct keys written and read (round-robin). */
  keys: number;
  /** Requests in flight in `closed` mode. */
  concurrency: number;
  /** Requests per second in `open` mode. */
  openRatePerSec: number;
  /** Most requests in flight in `open` mode before a due request is skipped. */
  openMaxInFlight: number;
  /** Length of each measured window. */
  durationMs: number;
  /** Closed-loop warm-up before measuring each target. */
  warmupMs: number;
}

/** Latency and throughput of one measured window. */
export interface LoadSummary {
  /** Completed requests, errors included. */
  requests: number;
  errors: number;
  /** `open` only: due requests not sent because `openMaxInFlight` were already in flight. */
  skipped: number;
  durationMs: number;
  throughputPerSec: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Share of both cores busy during the window (this load, the sidecar, the database and any other work). */
  machineBusyPercent?: number;
  /** `weft` only: CPU time the sidecar process spent per completed request, in microseconds. */
  sidecarCpuUsPerRequest?: number;
  /** `weft` only: the sidecar's scavenges and mark-compacts per 10,000 completed requests. */
  sidecarGcPer10k?: { scavenges: number; markCompacts: number };
  /** First error seen, to explain a non-zero `errors`. */
  firstError?: string;
}

/** One measured case as a worker reports it. */
export interface CaseResult {
  op: OpName;
  mode: LoadMode;
  summary: LoadSummary;
}

/** What the orchestrator sends a worker: set up (fill keys, warm up), measure one case, or close. */
export type WorkerCommand =
  | { type: 'init'; job: WorkerJob }
  | { type: 'case'; op: OpName; mode: LoadMode }
  | { type: 'close' };

/** A worker's answer to one command. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; result: CaseResult }
  | { type: 'closed' }
  | { type: 'failed'; error: string };
