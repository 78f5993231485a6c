/**
 * The subscriber's retry policy: how often and how fast a RETRY (or a failed delivery) is tried again
 * in process before the message is dead-lettered or handed back to the broker. Comes from the engine
 * settings (flags or `WEFT_PUBSUB_*`), so black-box tests and operators can tune it without a
 * Resiliency resource.
 */
import type { EngineSettings } from '../../config/engine-settings.js';

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

/** The delivery policy of the resolved engine settings (`--pubsub-*` flags, `WEFT_PUBSUB_*`). */
export function deliveryPolicyOf(settings: EngineSettings): DeliveryPolicy {
  return {
    maxRetries: settings.pubsubMaxRetries,
    initialIntervalMs: settings.pubsubRetryIntervalMs,
    maxIntervalMs: settings.pubsubRetryMaxIntervalMs,
    deliveryTimeoutMs: settings.pubsubDeliveryTimeoutMs,
  };
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
