/**
 * Per-user rate limiting in the Dapr state store: a window that starts at the user's first request
 * and lasts `windowSeconds`, with a counter updated by optimistic concurrency (read with ETag, write
 * with that ETag; first-write for a new window). Concurrent requests that collide retry, so no two
 * of them are counted as one and the limit holds across replicas of the backend.
 */
import type { StateClient } from '../shared/state.js';

interface Window {
  started_at: number;
  count: number;
}

/** The verdict for one request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

/** A fixed-window limiter of `limit` requests per `windowSeconds` per key. */
export class RateLimiter {
  constructor(
    private readonly state: StateClient,
    private readonly limit: number,
    private readonly windowSeconds: number,
  ) {}

  /** Counts one request for `userId` and says whether it may proceed. */
  async hit(userId: string, now = Date.now): Promise<RateDecision> {
    const key = `rate_limit:user:${userId}`;
    const windowMs = this.windowSeconds * 1000;
    return this.state.update<Window, RateDecision>(
      key,
      (current) => {
        const t = now();
        const fresh = !current || t - current.started_at >= windowMs;
        const window = fresh ? { started_at: t, count: 0 } : current;
        const resetSeconds = Math.max(1, Math.ceil((window.started_at + windowMs - t) / 1000));
        if (window.count >= this.limit) return { skip: true, result: { allowed: false, limit: this.limit, remaining: 0, resetSeconds } };
        const count = window.count + 1;
        return {
          value: { started_at: window.started_at, count },
          result: { allowed: true, limit: this.limit, remaining: this.limit - count, resetSeconds },
        };
      },
      // The key outlives its window a little so an idle user's counter disappears by itself.
      { ttlSeconds: this.windowSeconds * 2 },
    );
  }
}
