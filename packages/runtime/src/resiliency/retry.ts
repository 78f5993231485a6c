/**
 * Retry policies as dapr/kit `retry` defines them: constant (every `duration`) or exponential
 * (from `initialInterval`, ×`multiplier`, ±`randomizationFactor` jitter, capped at `maxInterval`),
 * `maxRetries` (-1 = unlimited) and, since Dapr 1.15, `matching` status-code lists that restrict
 * which failures are retried.
 */

/** A resolved retry policy; durations in ms. */
export interface RetryPolicy {
  name: string;
  policy: 'constant' | 'exponential';
  durationMs: number;
  initialIntervalMs: number;
  maxIntervalMs: number;
  /** 0 = no limit. */
  maxElapsedMs: number;
  /** -1 = unlimited. */
  maxRetries: number;
  multiplier: number;
  randomizationFactor: number;
  /** Inclusive ranges of HTTP status codes to retry; empty = any. */
  httpStatusCodes: [number, number][];
  /** Inclusive ranges of gRPC status codes to retry; empty = any. */
  grpcStatusCodes: [number, number][];
}

/** dapr/kit's `retry.DefaultConfig()`. */
export const RETRY_DEFAULTS: Omit<RetryPolicy, 'name'> = {
  policy: 'constant',
  durationMs: 5000,
  initialIntervalMs: 500,
  maxIntervalMs: 60_000,
  maxElapsedMs: 0,
  maxRetries: -1,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  httpStatusCodes: [],
  grpcStatusCodes: [],
};

/**
 * Parses `"429,500-599"` into ranges; throws with a readable message when a code is out of `[min, max]`.
 */
export function parseStatusCodes(text: string, min: number, max: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`"${part}" is neither a code nor a range like 500-599`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < min || to > max || from > to) throw new Error(`"${part}" is outside ${min}-${max}`);
    ranges.push([from, to]);
  }
  return ranges;
}

/** An error that carries the status a remote side answered, so `matching` can judge it. */
export class StatusCodeError extends Error {
  constructor(
    message: string,
    readonly httpStatusCode?: number,
    readonly grpcStatusCode?: number,
  ) {
    super(message);
    this.name = 'StatusCodeError';
  }
}

const inRanges = (code: number, ranges: readonly [number, number][]) => ranges.some(([a, b]) => code >= a && code <= b);

/** True when the policy's `matching` lets this failure be retried (errors without a status always are). */
export function matchesRetry(policy: RetryPolicy, err: unknown): boolean {
  if (!(err instanceof StatusCodeError)) return true;
  if (err.httpStatusCode !== undefined && policy.httpStatusCodes.length > 0) return inRanges(err.httpStatusCode, policy.httpStatusCodes);
  if (err.grpcStatusCode !== undefined && policy.grpcStatusCodes.length > 0) return inRanges(err.grpcStatusCode, policy.grpcStatusCodes);
  return true;
}

/** The wait before retry number `attempt` (1-based), with jitter drawn from `random`. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (policy.policy === 'constant') return policy.durationMs;
  const base = Math.min(policy.initialIntervalMs * policy.multiplier ** (attempt - 1), policy.maxIntervalMs);
  const delta = policy.randomizationFactor * base;
  return Math.min(base - delta + random() * 2 * delta, policy.maxIntervalMs);
}

/**
 * True when an HTTP answer counts as a failure for resiliency: anything outside 200-399, as daprd's
 * service invocation treats it (`resiliency.NewCodeError` on a non-2xx/3xx answer). A failure is
 * counted by circuit breakers and retried when `matching.httpStatusCodes` lists it (or lists nothing);
 * the last failing answer goes back to the caller as it is.
 */
export function isFailureHttpStatus(status: number): boolean {
  return status < 200 || status > 399;
}
