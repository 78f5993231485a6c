import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitBreakerOpenError, compileTrip } from './circuit-breaker.js';

function breaker(trip: string, now: { t: number }, overrides: Partial<{ maxRequests: number; intervalMs: number; timeoutMs: number }> = {}) {
  const changes: string[] = [];
  const cb = new CircuitBreaker(
    { name: 'cb', maxRequests: 1, intervalMs: 0, timeoutMs: 1000, trip, ...overrides },
    (from, to) => changes.push(`${from}->${to}`),
    () => now.t,
  );
  return { cb, changes };
}

const fail = (cb: CircuitBreaker) => {
  cb.before();
  cb.after(false);
};

describe('circuit breaker', () => {
  it('opens when the CEL trip expression becomes true, and refuses calls while open', () => {
    const now = { t: 0 };
    const { cb, changes } = breaker('consecutiveFailures > 2', now);
    fail(cb);
    fail(cb);
    expect(cb.state).toBe('closed');
    fail(cb);
    expect(cb.state).toBe('open');
    expect(() => cb.before()).toThrow(CircuitBreakerOpenError);
    expect(changes).toEqual(['closed->open']);
  });

  it('goes half-open after the timeout and closes after maxRequests successes', () => {
    const now = { t: 0 };
    const { cb, changes } = breaker('consecutiveFailures >= 1', now, { maxRequests: 2 });
    fail(cb);
    now.t = 1000;
    expect(cb.state).toBe('half-open');
    cb.before();
    cb.before();
    expect(() => cb.before()).toThrow('too many requests');
    cb.after(true);
    cb.after(true);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('re-opens on a failure while half-open', () => {
    const now = { t: 0 };
    const { cb } = breaker('consecutiveFailures >= 1', now);
    fail(cb);
    now.t = 1000;
    fail(cb);
    expect(cb.state).toBe('open');
  });

  it('resets the counts every interval while closed', () => {
    const now = { t: 0 };
    const { cb } = breaker('totalFailures >= 2', now, { intervalMs: 100 });
    fail(cb);
    now.t = 150;
    fail(cb);
    expect(cb.state).toBe('closed');
    fail(cb);
    expect(cb.state).toBe('open');
  });

  it('evaluates trip expressions over every counter Dapr exposes', () => {
    const trip = compileTrip('requests > 3 && totalFailures * 2 > requests && consecutiveSuccesses == 0 && totalSuccesses < 2');
    expect(trip({ requests: 4, totalFailures: 3, totalSuccesses: 1, consecutiveSuccesses: 0, consecutiveFailures: 1 })).toBe(true);
    expect(trip({ requests: 4, totalFailures: 2, totalSuccesses: 2, consecutiveSuccesses: 0, consecutiveFailures: 1 })).toBe(false);
  });

  it('rejects expressions that are not boolean or use unknown variables', () => {
    expect(() => compileTrip('consecutiveFailures + 1')).toThrow('boolean');
    expect(() => compileTrip('failures > 1')).toThrow('Unknown variable');
    expect(() => compileTrip('consecutiveFailures >')).toThrow();
  });
});
