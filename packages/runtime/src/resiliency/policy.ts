/**
 * One resolved policy (timeout + retry + circuit breaker) and how it runs an operation, in Dapr's
 * order: each attempt runs under the timeout, inside the circuit breaker; the retry wraps attempts.
 * An open breaker stops retrying at once. Errors marked {@link isPermanentError} are neither retried
 * nor counted as breaker failures (an etag mismatch will not heal by trying again); errors marked
 * {@link isFinalError} are failures the breaker counts but that must not be retried (Dapr's
 * `backoff.Permanent`: a proxied call whose answer has already reached the caller).
 */
import type { BreakerState, CircuitBreaker } from './circuit-breaker.js';
import { CircuitBreakerOpenError } from './circuit-breaker.js';
import type { RetryPolicy } from './retry.js';
import { backoffMs, matchesRetry } from './retry.js';

/** Policy kinds, as Dapr's `policy` metric label spells them. */
export type PolicyKind = 'timeout' | 'retry' | 'circuitbreaker';
/** Flow directions, as Dapr's `flow_direction` metric label spells them. */
export type FlowDirection = 'outbound' | 'inbound';

/** Receives what policies do; the metrics module implements it. */
export interface ResiliencyObserver {
  /** A policy was applied to a call (`dapr_resiliency_count`). */
  executed(policy: PolicyKind, direction: FlowDirection, target: string, status: string): void;
  /** A policy acted: a timeout fired, a retry happened, a breaker changed state (`dapr_resiliency_activations_total`). */
  activated(policy: PolicyKind, direction: FlowDirection, target: string, status: string): void;
}

/** Thrown when an attempt exceeds its timeout policy. The message is Go's, as daprd reports it. */
export class TimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super('context deadline exceeded');
    this.name = 'TimeoutError';
  }
}

const PERMANENT = Symbol.for('weft.resiliency.permanent');

/** Marks an error as not worth retrying and not a backend failure. */
export function markPermanent<E extends object>(err: E): E {
  Object.defineProperty(err, PERMANENT, { value: true });
  return err;
}

/** True for errors marked with {@link markPermanent}. */
export function isPermanentError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[PERMANENT] === true;
}

const FINAL = Symbol.for('weft.resiliency.final');

/** Marks an error as a failure that must not be retried (the breaker still counts it). */
export function markFinal<E extends object>(err: E): E {
  Object.defineProperty(err, FINAL, { value: true });
  return err;
}

/** True for errors marked with {@link markFinal}. */
export function isFinalError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[FINAL] === true;
}

/** What {@link PolicyRunner.execute} passes to the operation. */
export interface AttemptContext {
  /** Aborted when the attempt's timeout fires; pass it on to I/O that accepts one. */
  signal: AbortSignal;
  /** 1 for the first try. */
  attempt: number;
}

/** The seam invocation, pub/sub and bindings use: `policy.execute(fn)`. */
export interface PolicyRunner {
  /** True when no timeout, retry or breaker applies (callers may skip bookkeeping). */
  readonly isNoop: boolean;
  /** The retry part, so callers can tell which answers count as failures (`matching`). */
  readonly retryPolicy?: RetryPolicy | undefined;
  execute<T>(operation: (context: AttemptContext) => Promise<T>): Promise<T>;
}

/** The parts of a resolved policy. */
export interface PolicyParts {
  timeoutMs?: number;
  retry?: RetryPolicy;
  breaker?: CircuitBreaker;
  direction: FlowDirection;
  /** `Statestore_mystore`, `app_orders` … (Dapr's `target` metric label). */
  target: string;
  observer?: ResiliencyObserver;
  /** Injected for tests. @default setTimeout-based */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A policy that does nothing but run the operation once. */
export const noopPolicy: PolicyRunner = {
  isNoop: true,
  execute: (operation) => operation({ signal: new AbortController().signal, attempt: 1 }),
};

/** Runs operations under a timeout, retry and circuit breaker. */
export class Policy implements PolicyRunner {
  readonly isNoop: boolean;

  constructor(private readonly parts: PolicyParts) {
    this.isNoop = parts.timeoutMs === undefined && !parts.retry && !parts.breaker;
  }

  get retryPolicy(): RetryPolicy | undefined {
    return this.parts.retry;
  }

  async execute<T>(operation: (context: AttemptContext) => Promise<T>): Promise<T> {
    const { retry, breaker, timeoutMs, observer, direction, target } = this.parts;
    if (timeoutMs !== undefined) observer?.executed('timeout', direction, target, '');
    if (retry) observer?.executed('retry', direction, target, '');
    if (breaker) observer?.executed('circuitbreaker', direction, target, breaker.state);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(operation, attempt);
      } catch (err) {
        if (!retry || err instanceof CircuitBreakerOpenError || isPermanentError(err) || isFinalError(err) || !matchesRetry(retry, err)) throw err;
        if (retry.maxRetries >= 0 && attempt > retry.maxRetries) throw err;
        const wait = backoffMs(retry, attempt);
        if (retry.maxElapsedMs > 0 && Date.now() - started + wait > retry.maxElapsedMs) throw err;
        observer?.activated('retry', direction, target, '');
        await (this.parts.sleep ?? defaultSleep)(wait);
      }
    }
  }

  private async attempt<T>(operation: (context: AttemptContext) => Promise<T>, attempt: number): Promise<T> {
    const { breaker, timeoutMs } = this.parts;
    breaker?.before();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = operation({ signal: controller.signal, attempt });
      // A timed-out attempt may still fail later; nobody awaits it any more.
      running.catch(() => {});
      const result =
        timeoutMs === undefined
          ? await running
          : await Promise.race([
              running,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  controller.abort();
                  this.parts.observer?.activated('timeout', this.parts.direction, this.parts.target, '');
                  reject(new TimeoutError(timeoutMs));
                }, timeoutMs);
              }),
            ]);
      breaker?.after(true);
      return result;
    } catch (err) {
      breaker?.after(isPermanentError(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Re-exported for observers that label breaker states. */
export type { BreakerState };
