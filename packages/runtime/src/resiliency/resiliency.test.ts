import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { silentLogger } from '../logging/logger.js';
import { ResourceError } from '../resources/loader.js';
import { TimeoutError, markFinal, markPermanent } from './policy.js';
import type { FlowDirection, PolicyKind, PolicyRunner } from './policy.js';
import { Resiliency } from './resiliency.js';
import { StatusCodeError } from './retry.js';

function build(yaml: string, appId = 'app1') {
  const events: string[] = [];
  const sleeps: number[] = [];
  const observer = {
    executed: (p: PolicyKind, d: FlowDirection, t: string) => events.push(`executed ${p} ${d} ${t}`),
    activated: (p: PolicyKind, d: FlowDirection, t: string, s: string) => events.push(`activated ${p} ${d} ${t}${s ? ` ${s}` : ''}`),
  };
  const r = Resiliency.fromDocuments([{ file: '/r/res.yaml', index: 0, doc: parse(yaml) as Record<string, unknown> }], appId, {
    logger: silentLogger(),
    observer,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { r, events, sleeps };
}

/** An operation that fails `failures` times, then returns 'ok'. */
function flaky(failures: number, error: () => Error = () => new Error('backend down')) {
  let calls = 0;
  const run = async () => {
    calls++;
    if (calls <= failures) throw error();
    return 'ok';
  };
  return { run, calls: () => calls };
}

const DOC = (spec: string) => `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: res}\nspec:\n${spec}`;

describe('resiliency policies', () => {
  it('retries a component call with a constant policy until it succeeds', async () => {
    const { r, sleeps, events } = build(
      DOC(`  policies:\n    retries:\n      three: {policy: constant, duration: 250ms, maxRetries: 3}\n  targets:\n    components:\n      store: {outbound: {retry: three}}\n`),
    );
    const op = flaky(2);
    const policy = r.policyFor({ kind: 'component', name: 'store', direction: 'outbound', componentKind: 'state' });
    await expect(policy.execute(op.run)).resolves.toBe('ok');
    expect(op.calls()).toBe(3);
    expect(sleeps).toEqual([250, 250]);
    expect(events.filter((e) => e.startsWith('activated'))).toEqual([
      'activated retry outbound Statestore_store',
      'activated retry outbound Statestore_store',
    ]);
  });

  it('gives up after maxRetries and rethrows the last error', async () => {
    const { r } = build(DOC(`  policies:\n    retries:\n      two: {maxRetries: 2, duration: 1ms}\n  targets:\n    components:\n      store: {outbound: {retry: two}}\n`));
    const op = flaky(10);
    await expect(r.policyFor({ kind: 'component', name: 'store', direction: 'outbound', componentKind: 'state' }).execute(op.run)).rejects.toThrow('backend down');
    expect(op.calls()).toBe(3);
  });

  it('grows exponential backoff and caps it at maxInterval', async () => {
    const { r, sleeps } = build(
      DOC(`  policies:\n    retries:\n      exp: {policy: exponential, maxInterval: 1s, maxRetries: 8, randomizationFactor: 0}\n  targets:\n    apps:\n      app2: {retry: exp}\n`),
    );
    await r.policyFor({ kind: 'app', name: 'app2' }).execute(flaky(8).run);
    expect(sleeps).toEqual([500, 750, 1000, 1000, 1000, 1000, 1000, 1000]);
  });

  it('retries only the status codes listed in matching', async () => {
    const { r } = build(
      DOC(`  policies:\n    retries:\n      m: {maxRetries: 5, duration: 1ms, matching: {httpStatusCodes: "429,500-503"}}\n  targets:\n    apps:\n      app2: {retry: m}\n`),
    );
    const policy = r.policyFor({ kind: 'app', name: 'app2' });
    const retried = flaky(2, () => new StatusCodeError('busy', 503));
    await expect(policy.execute(retried.run)).resolves.toBe('ok');
    const notRetried = flaky(2, () => new StatusCodeError('bad', 404));
    await expect(policy.execute(notRetried.run)).rejects.toThrow('bad');
    expect(notRetried.calls()).toBe(1);
  });

  it('fails an attempt that outlives its timeout with "context deadline exceeded"', async () => {
    const { r, events } = build(DOC(`  policies:\n    timeouts:\n      fast: 20ms\n  targets:\n    components:\n      store: {outbound: {timeout: fast}}\n`));
    const never = () => new Promise<string>(() => {});
    const err = await r
      .policyFor({ kind: 'component', name: 'store', direction: 'outbound', componentKind: 'state' })
      .execute(never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('context deadline exceeded');
    expect(events).toContain('activated timeout outbound Statestore_store');
  });

  it('opens the breaker on the trip expression and stops retrying once it is open', async () => {
    const { r, events } = build(
      DOC(
        `  policies:\n    retries:\n      many: {maxRetries: 10, duration: 1ms}\n    circuitBreakers:\n      cb: {trip: "consecutiveFailures >= 3", timeout: 1h}\n  targets:\n    components:\n      store: {outbound: {retry: many, circuitBreaker: cb}}\n`,
      ),
    );
    const op = flaky(100);
    const policy = r.policyFor({ kind: 'component', name: 'store', direction: 'outbound', componentKind: 'state' });
    await expect(policy.execute(op.run)).rejects.toThrow('circuit breaker is open');
    expect(op.calls()).toBe(3);
    expect(events).toContain('activated circuitbreaker outbound Statestore_store open');
    // The breaker is shared by later calls to the same component.
    await expect(r.policyFor({ kind: 'component', name: 'store', direction: 'outbound', componentKind: 'state' }).execute(op.run)).rejects.toThrow('circuit breaker is open');
    expect(op.calls()).toBe(3);
  });

  it('does not retry a final error but counts it against the breaker, unlike a permanent one', async () => {
    const { r } = build(
      DOC(
        `  policies:\n    retries:\n      many: {maxRetries: 10, duration: 1ms}\n    circuitBreakers:\n      cb: {trip: "consecutiveFailures >= 2", timeout: 1h}\n  targets:\n    components:\n      store: {outbound: {retry: many, circuitBreaker: cb}}\n      other: {outbound: {retry: many, circuitBreaker: cb}}\n`,
      ),
    );
    const policy = (name: string) => r.policyFor({ kind: 'component', name, direction: 'outbound', componentKind: 'state' });
    const final = flaky(100, () => markFinal(new Error('answer already sent')));
    await expect(policy('store').execute(final.run)).rejects.toThrow('answer already sent');
    expect(final.calls()).toBe(1);
    await expect(policy('store').execute(final.run)).rejects.toThrow('answer already sent');
    await expect(policy('store').execute(final.run)).rejects.toThrow('circuit breaker is open');
    expect(final.calls()).toBe(2);
    const permanent = flaky(100, () => markPermanent(new Error('etag mismatch')));
    for (let i = 0; i < 3; i++) await expect(policy('other').execute(permanent.run)).rejects.toThrow('etag mismatch');
    expect(permanent.calls()).toBe(3);
  });

  it('keeps one app breaker per endpoint', async () => {
    const { r } = build(
      DOC(`  policies:\n    circuitBreakers:\n      cb: {trip: "consecutiveFailures >= 1", timeout: 1h}\n  targets:\n    apps:\n      app2: {circuitBreaker: cb}\n`),
    );
    const endpoint = (e: string) => r.policyFor({ kind: 'app', name: 'app2', endpoint: e });
    await expect(endpoint('app2:a').execute(flaky(1).run)).rejects.toThrow('backend down');
    await expect(endpoint('app2:a').execute(flaky(0).run)).rejects.toThrow('circuit breaker is open');
    await expect(endpoint('app2:b').execute(flaky(0).run)).resolves.toBe('ok');
  });

  it('prefers a named target, then the most specific Default…Policy, per policy kind', () => {
    const { r } = build(
      DOC(`  policies:
    timeouts: {DefaultTimeoutPolicy: 9s, DefaultComponentOutboundTimeoutPolicy: 8s, DefaultStatestoreComponentOutboundTimeoutPolicy: 7s, named: 1s}
    retries: {DefaultRetryPolicy: {maxRetries: 1}, DefaultAppRetryPolicy: {maxRetries: 2}}
  targets:
    components:
      pinned: {outbound: {timeout: named}}
`),
    );
    const parts = (p: PolicyRunner) => (p as unknown as { parts: { timeoutMs?: number; retry?: { name: string } } }).parts;
    const state = parts(r.policyFor({ kind: 'component', name: 'other', direction: 'outbound', componentKind: 'state' }));
    expect([state.timeoutMs, state.retry?.name]).toEqual([7000, 'DefaultRetryPolicy']);
    const secret = parts(r.policyFor({ kind: 'component', name: 'vault', direction: 'outbound', componentKind: 'secretstores' }));
    expect(secret.timeoutMs).toBe(8000);
    const inbound = parts(r.policyFor({ kind: 'component', name: 'q', direction: 'inbound', componentKind: 'pubsub' }));
    expect(inbound.timeoutMs).toBe(9000);
    const pinned = parts(r.policyFor({ kind: 'component', name: 'pinned', direction: 'outbound', componentKind: 'state' }));
    expect([pinned.timeoutMs, pinned.retry]).toEqual([1000, undefined]);
    expect(parts(r.policyFor({ kind: 'app', name: 'b' })).retry?.name).toBe('DefaultAppRetryPolicy');
  });

  it('keeps the built-in retries and only lets them be strengthened', () => {
    const { r } = build(DOC(`  policies:\n    retries:\n      DaprBuiltInServiceRetries: {maxRetries: 1, duration: 2s}\n`));
    const parts = (r.builtInPolicy('DaprBuiltInServiceRetries') as unknown as { parts: { retry: { maxRetries: number; durationMs: number } } }).parts;
    expect(parts.retry).toMatchObject({ maxRetries: 3, durationMs: 2000 });
  });

  it('ignores documents scoped to other apps', () => {
    const { r } = build(`apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: res}\nscopes: [other]\nspec:\n  policies:\n    timeouts: {DefaultTimeoutPolicy: 1s}\n`);
    expect(r.policyFor({ kind: 'app', name: 'x' }).isNoop).toBe(true);
  });

  it('fails start-up with the file and field for a bad trip, duration or reference', () => {
    const fieldOf = (spec: string) => {
      try {
        build(DOC(spec));
      } catch (err) {
        if (err instanceof ResourceError) return err.message;
      }
      return 'accepted';
    };
    expect(fieldOf(`  policies:\n    circuitBreakers:\n      cb: {trip: "failures > 1"}\n`)).toMatch(/^\/r\/res\.yaml: spec\.policies\.circuitBreakers\.cb\.trip: invalid CEL expression/);
    expect(fieldOf(`  policies:\n    timeouts: {t: soon}\n`)).toMatch(/spec\.policies\.timeouts\.t: expected a duration/);
    expect(fieldOf(`  targets:\n    apps:\n      a: {retry: missing}\n`)).toBe('/r/res.yaml: spec.targets.apps.a.retry: no retry policy named "missing"');
    expect(fieldOf(`  policies:\n    retries:\n      r: {maxRetrys: 1}\n`)).toMatch(/spec\.policies\.retries\.r\.maxRetrys: Unrecognized key/);
  });
});
