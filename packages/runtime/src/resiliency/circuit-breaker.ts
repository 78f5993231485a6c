/**
 * A circuit breaker with sony/gobreaker's state machine, as Dapr uses it: closed → open when the
 * `trip` CEL expression is true after a failure; open → half-open after `timeout`; half-open lets
 * `maxRequests` calls through and closes after that many consecutive successes, or re-opens on any
 * failure. In the closed state the counts reset every `interval` (0 = never).
 */
import type * as Cel from '@marcbachmann/cel-js';
import { lazyModule } from '../util/lazy-module.js';

/** Breaker states, spelled as Dapr's metrics label them. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The counters `trip` sees. */
export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

/** A breaker's settings; durations in ms. */
export interface CircuitBreakerSettings {
  name: string;
  /** @default 1 */
  maxRequests: number;
  /** @default 0 (never reset while closed) */
  intervalMs: number;
  /** @default 60000 */
  timeoutMs: number;
  /** @default 'consecutiveFailures > 5' */
  trip: string;
}

/** Thrown when a call is refused because the breaker is open (gobreaker's `ErrOpenState`). */
export class CircuitBreakerOpenError extends Error {
  constructor(readonly breaker: string, tooManyRequests = false) {
    super(tooManyRequests ? 'too many requests' : 'circuit breaker is open');
    this.name = 'CircuitBreakerOpenError';
  }
}

const VARIABLES = ['requests', 'totalSuccesses', 'totalFailures', 'consecutiveSuccesses', 'consecutiveFailures'] as const;
/** The CEL implementation, loaded by the first circuit breaker with a `trip` expression. */
const cel = lazyModule<typeof Cel>('@marcbachmann/cel-js');
let celEnv: Cel.Environment | undefined;
const tripEnvironment = (): Cel.Environment =>
  (celEnv ??= VARIABLES.reduce((env, name) => env.registerVariable(name, 'int'), new (cel().Environment)()));

/** A compiled `trip` expression. */
export type TripPredicate = (counts: BreakerCounts) => boolean;

/** Compiles and type-checks a `trip` expression; throws with the reason when it is not a boolean CEL expression over the counters. */
export function compileTrip(expression: string): TripPredicate {
  const program = tripEnvironment().parse(expression);
  const check = program.check();
  if (!check.valid) throw new Error(check.error?.message.split('\n')[0] ?? 'invalid CEL expression');
  if (check.type !== 'bool') throw new Error(`must be a boolean expression, got ${check.type}`);
  return (counts) => {
    const vars: Record<string, bigint> = {};
    for (const name of VARIABLES) vars[name] = BigInt(counts[name]);
    return program(vars) === true;
  };
}

/** One breaker instance (Dapr keeps one per component, and one per app endpoint). */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private counts: BreakerCounts = zeroCounts();
  private expiresAt = 0;
  private readonly tripped: TripPredicate;

  constructor(
    readonly settings: CircuitBreakerSettings,
    private readonly onStateChange: (from: BreakerState, to: BreakerState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.tripped = compileTrip(settings.trip);
    this.resetGeneration();
  }

  /** The state now (an expired open breaker reads as half-open). */
  get state(): BreakerState {
    this.advance();
    return this.current;
  }

  /** Admits a call or throws {@link CircuitBreakerOpenError}. */
  before(): void {
    this.advance();
    if (this.current === 'open') throw new CircuitBreakerOpenError(this.settings.name);
    if (this.current === 'half-open' && this.counts.requests >= this.settings.maxRequests) {
      throw new CircuitBreakerOpenError(this.settings.name, true);
    }
    this.counts.requests++;
  }

  /** Records the outcome of an admitted call. */
  after(success: boolean): void {
    this.advance();
    const c = this.counts;
    if (success) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.current === 'half-open' && c.consecutiveSuccesses >= this.settings.maxRequests) this.transition('closed');
      return;
    }
    c.totalFailures++;
    c.consecutiveFailures++;
    c.consecutiveSuccesses = 0;
    if (this.current === 'half-open' || (this.current === 'closed' && this.tripped({ ...c }))) this.transition('open');
  }

  private advance(): void {
    const now = this.now();
    if (this.current === 'closed' && this.expiresAt !== 0 && now >= this.expiresAt) this.resetGeneration();
    else if (this.current === 'open' && now >= this.expiresAt) this.transition('half-open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.resetGeneration();
    this.onStateChange(from, to);
  }

  private resetGeneration(): void {
    this.counts = zeroCounts();
    const now = this.now();
    if (this.current === 'closed') this.expiresAt = this.settings.intervalMs > 0 ? now + this.settings.intervalMs : 0;
    else if (this.current === 'open') this.expiresAt = now + this.settings.timeoutMs;
    else this.expiresAt = 0;
  }
}

function zeroCounts(): BreakerCounts {
  return { requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 };
}
