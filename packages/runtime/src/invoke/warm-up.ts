/**
 * Warm-up right after readiness: a sidecar's first requests run cold code (interpreted JavaScript,
 * undici loaded and its HTTP parser compiled from WebAssembly on first use, connection pools still
 * empty), and at a steady 1,000 requests/s that showed as p99 of hundreds of milliseconds in the first
 * seconds after start. So the sidecar sends itself a few invocations through the real paths — its HTTP
 * API, the invocation forwarder, its undici pool and its internal server — and back. It starts as soon
 * as `healthz/outbound` turns ready rather than before, so loading undici (the costliest library to
 * load, `util/load-undici.ts`) and the calls themselves are not part of start-up time; an app's first
 * calls, which come after it has seen the sidecar ready, mostly find the paths warm.
 *
 * The calls name the internal port by URL (`/v1.0/invoke/http://host:port/method/…`), so no name
 * resolution is involved and no app is called: the internal server answers them itself. They carry a
 * per-process random token in {@link WARM_UP_HEADER}, by which the API server and the internal server
 * leave them out of metrics and traces; a request with any other value is an ordinary request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { undici } from '../util/load-undici.js';

/** The header that marks a warm-up call. */
export const WARM_UP_HEADER = 'weft-warm-up';
/** The method path the internal server answers warm-up calls on. */
export const WARM_UP_METHOD = '/weft-internal/warm-up';

const token = randomBytes(16).toString('hex');

/** True for a warm-up call of this process. */
export function isWarmUp(headers: IncomingHttpHeaders): boolean {
  return headers[WARM_UP_HEADER] === token;
}

/** What {@link warmUp} needs. */
export interface WarmUpOptions {
  /** This sidecar's HTTP API. */
  apiHost: string;
  apiPort: number;
  /** This sidecar's internal port, as peers dial it. */
  internalHost: string;
  internalPort: number;
  /** `dapr-api-token`, when the API requires one. */
  apiToken?: string | undefined;
  /** Calls in all. @default 200 */
  calls?: number;
  /** Calls in flight at once. @default 4 */
  concurrency?: number;
  /** The warm-up stops after this long, so it competes with an app's first calls for at most about this much. @default 50 */
  budgetMs?: number;
}

/** Sends the warm-up calls; resolves with how many were answered, never rejects. */
export async function warmUp(options: WarmUpOptions): Promise<{ calls: number; failed: number; ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { calls = 200, concurrency = 4, budgetMs = 50 } = options;
  const host = options.apiHost === '0.0.0.0' || options.apiHost === '::' ? '127.0.0.1' : options.apiHost;
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const pool = new (undici().Pool)(`http://${bracket(host)}:${options.apiPort}`, { connections: concurrency });
  const path = `/v1.0/invoke/http://${bracket(options.internalHost)}:${options.internalPort}/method${WARM_UP_METHOD}`;
  const headers: Record<string, string> = { [WARM_UP_HEADER]: token };
  if (options.apiToken) headers['dapr-api-token'] = options.apiToken;
  // The budget is for the calls: loading undici (first use, above) is not part of it.
  const deadline = performance.now() + budgetMs;
  let sent = 0;
  let answered = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < calls && performance.now() < deadline) {
      sent++;
      try {
        const res = await pool.request({ method: 'GET', path, headers, headersTimeout: budgetMs * 4, bodyTimeout: budgetMs * 4 });
        await res.body.dump();
        if (res.statusCode !== 204) {
          // Refused (an API allow-list, a token): the path is not open to warm up.
          failed++;
          return;
        }
        answered++;
      } catch {
        failed++;
        // Nothing listens or answers as expected: warming up further would only delay readiness.
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.destroy().catch(() => {});
  }
  const used = process.cpuUsage(cpu);
  return { calls: answered, failed, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}
