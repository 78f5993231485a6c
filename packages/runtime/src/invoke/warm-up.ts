/**
 * Warm-up before readiness: a sidecar's first requests run cold code (interpreted JavaScript, undici's
 * HTTP parser compiled from WebAssembly on first use, connection pools still empty), and at a steady
 * 1,000 requests/s that showed as p99 of hundreds of milliseconds in the first seconds after start.
 * So before `healthz` turns ready the sidecar sends itself a few invocations through the real paths —
 * its HTTP API, the invocation forwarder, its undici pool and its internal server — and back.
 *
 * The calls name the internal port by URL (`/v1.0/invoke/http://host:port/method/…`), so no name
 * resolution is involved and no app is called: the internal server answers them itself. They carry a
 * per-process random token in {@link WARM_UP_HEADER}, by which the API server and the internal server
 * leave them out of metrics and traces; a request with any other value is an ordinary request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

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
  /**
   * The warm-up stops after this long, so it delays readiness by at most about this much (it counts
   * against start-up time). @default 50
   */
  budgetMs?: number;
}

/** Sends the warm-up calls; resolves with how many were answered, never rejects. */
export async function warmUp(options: WarmUpOptions): Promise<{ calls: number; failed: number; ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { calls = 200, concurrency = 4, budgetMs = 50 } = options;
  const host = options.apiHost === '0.0.0.0' || options.apiHost === '::' ? '127.0.0.1' : options.apiHost;
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const pool = new Pool(`http://${bracket(host)}:${options.apiPort}`, { connections: concurrency });
  const path = `/v1.0/invoke/http://${bracket(options.internalHost)}:${options.internalPort}/method${WARM_UP_METHOD}`;
  const headers: Record<string, string> = { [WARM_UP_HEADER]: token };
  if (options.apiToken) headers['dapr-api-token'] = options.apiToken;
  const deadline = started + budgetMs;
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
