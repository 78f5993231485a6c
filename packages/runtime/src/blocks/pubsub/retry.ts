/**
 * The subscriber's retry policy: how often and how fast a RETRY (or a failed delivery) is tried again
 * in process before the message is dead-lettered or handed back to the broker. Read from the
 * sidecar's environment so black-box tests and operators can tune it without a Resiliency resource.
 */
import { parseDuration } from '../../util/duration.js';

/** Retry and timeout settings of event delivery. */
export interface DeliveryPolicy {
  /** Retries after the first attempt; then dead-letter, or back to the broker. @default 5 */
  maxRetries: number;
  /** First backoff, doubled on each retry. @default 500 */
  initialIntervalMs: number;
  /** Backoff cap. @default 5000 */
  maxIntervalMs: number;
  /** How long the app may take to answer one delivery. @default 60000 */
  deliveryTimeoutMs: number;
}

/** The defaults. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxRetries: 5,
  initialIntervalMs: 500,
  maxIntervalMs: 5000,
  deliveryTimeoutMs: 60_000,
};

/**
 * The policy from `WEFT_PUBSUB_MAX_RETRIES`, `WEFT_PUBSUB_RETRY_INTERVAL`,
 * `WEFT_PUBSUB_RETRY_MAX_INTERVAL` and `WEFT_PUBSUB_DELIVERY_TIMEOUT` (durations such as `200ms`).
 */
export function deliveryPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): DeliveryPolicy {
  const policy = { ...DEFAULT_DELIVERY_POLICY };
  const retries = Number(env['WEFT_PUBSUB_MAX_RETRIES']);
  if (env['WEFT_PUBSUB_MAX_RETRIES'] && Number.isInteger(retries) && retries >= 0) policy.maxRetries = retries;
  const duration = (name: string): number | undefined => {
    const value = env[name];
    return value ? parseDuration(name, value, { positive: true }) : undefined;
  };
  policy.initialIntervalMs = duration('WEFT_PUBSUB_RETRY_INTERVAL') ?? policy.initialIntervalMs;
  policy.maxIntervalMs = duration('WEFT_PUBSUB_RETRY_MAX_INTERVAL') ?? Math.max(policy.maxIntervalMs, policy.initialIntervalMs);
  policy.deliveryTimeoutMs = duration('WEFT_PUBSUB_DELIVERY_TIMEOUT') ?? policy.deliveryTimeoutMs;
  return policy;
}

/** Backoff before retry number `attempt` (1-based). */
export function backoffMs(policy: DeliveryPolicy, attempt: number): number {
  return Math.min(policy.maxIntervalMs, policy.initialIntervalMs * 2 ** (attempt - 1));
}

/** Sleeps, or resolves false early when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
