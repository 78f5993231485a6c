/**
 * Conformance cases for concurrent writers and transactions: first-write, no lost update under
 * etag-guarded read-modify-write, and all-or-nothing transactions (dapr-api.md §1.2).
 */
import { expect, it } from 'vitest';
import { errorCode } from './state-harness.js';
import type { DriverRun, StateApi } from './state-harness.js';

const FIRST_WRITE = { concurrency: 'first-write' };

/** Adds one to a counter with an etag-guarded read-modify-write, retrying on conflict. */
async function increment(api: StateApi, key: string): Promise<number> {
  for (let attempt = 1; attempt <= 500; attempt++) {
    const { value, etag } = await api.read<number>(key);
    const res = await api.save([{ key, value: value + 1, etag }]);
    if (res.status === 204) return attempt;
    if (res.status !== 409) throw new Error(`unexpected ${res.status}: ${res.body.toString()}`);
  }
  throw new Error(`increment of ${key} did not succeed in 500 attempts`);
}

/** Registers the concurrency and transaction cases. */
export function concurrencyCases(run: DriverRun): void {
  it('first-write without an etag creates a missing key, then returns 409 ERR_STATE_SAVE once it exists', async () => {
    const key = run.key('fw');
    expect((await run.api.save([{ key, value: 'first', options: FIRST_WRITE }])).status).toBe(204);
    const res = await run.api.save([{ key, value: 'second', options: FIRST_WRITE }]);
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe('ERR_STATE_SAVE');
    expect((await run.api.read(key)).value).toBe('first');
  });

  it('first-write lets exactly one of 10 concurrent creators of one key win', async () => {
    const key = run.key('fw-race');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => run.api.save([{ key, value: `writer-${i}`, options: FIRST_WRITE }])),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 204)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    const winner = statuses.indexOf(204);
    expect((await run.api.read(key)).value).toBe(`writer-${winner}`);
  });

  it('first-write with an etag succeeds only with the current etag', async () => {
    const key = run.key('fw-etag');
    await run.api.save([{ key, value: 1 }]);
    const stale = (await run.api.read(key)).etag;
    await run.api.save([{ key, value: 2 }]);
    expect((await run.api.save([{ key, value: 3, etag: stale, options: FIRST_WRITE }])).status).toBe(409);
    const current = (await run.api.read(key)).etag;
    expect((await run.api.save([{ key, value: 4, etag: current, options: FIRST_WRITE }])).status).toBe(204);
    expect((await run.api.read(key)).value).toBe(4);
  });

  it('loses no update under 20 concurrent etag-guarded read-modify-write increments', async () => {
    const key = run.key('counter');
    await run.api.save([{ key, value: 0 }]);
    const attempts = await Promise.all(Array.from({ length: 20 }, () => increment(run.api, key)));
    expect((await run.api.read<number>(key)).value).toBe(20);
    // With 20 writers racing, some must have been refused and retried; otherwise nothing raced.
    expect(attempts.some((a) => a > 1)).toBe(true);
  });

  it('applies the upserts and deletes of one transaction together', async () => {
    const a = run.key('tx');
    const b = run.key('tx');
    const gone = run.key('tx');
    await run.api.save([{ key: gone, value: 'old' }]);
    const res = await run.api.transact([
      { operation: 'upsert', request: { key: a, value: { n: 1 } } },
      { operation: 'upsert', request: { key: b, value: 'two' } },
      { operation: 'delete', request: { key: gone } },
    ]);
    expect(res.status).toBe(204);
    expect((await run.api.read(a)).value).toEqual({ n: 1 });
    expect((await run.api.read(b)).value).toBe('two');
    expect((await run.api.get(gone)).status).toBe(204);
  });

  it('applies a transaction whose etags all match', async () => {
    const a = run.key('tx-etag');
    const b = run.key('tx-etag');
    await run.api.save([
      { key: a, value: 1 },
      { key: b, value: 1 },
    ]);
    const res = await run.api.transact([
      { operation: 'upsert', request: { key: a, value: 2, etag: (await run.api.read(a)).etag } },
      { operation: 'delete', request: { key: b, etag: (await run.api.read(b)).etag } },
    ]);
    expect(res.status).toBe(204);
    expect((await run.api.read(a)).value).toBe(2);
    expect((await run.api.get(b)).status).toBe(204);
  });

  it('rolls the whole transaction back with 500 ERR_STATE_TRANSACTION when one etag is stale', async () => {
    const fresh = run.key('tx-rb');
    const kept = run.key('tx-rb');
    const guarded = run.key('tx-rb');
    await run.api.save([
      { key: kept, value: 'kept' },
      { key: guarded, value: 'v1' },
    ]);
    const stale = (await run.api.read(guarded)).etag;
    await run.api.save([{ key: guarded, value: 'v2' }]);
    const res = await run.api.transact([
      { operation: 'upsert', request: { key: fresh, value: 'new' } },
      { operation: 'delete', request: { key: kept } },
      { operation: 'upsert', request: { key: guarded, value: 'v3', etag: stale } },
    ]);
    // Dapr answers every failed transaction, etag conflicts included, with 500 ERR_STATE_TRANSACTION.
    expect(res.status).toBe(500);
    expect(errorCode(res)).toBe('ERR_STATE_TRANSACTION');
    expect((await run.api.get(fresh)).status).toBe(204);
    expect((await run.api.read(kept)).value).toBe('kept');
    expect((await run.api.read(guarded)).value).toBe('v2');
  });

  it('rolls the whole transaction back when a stale etag guards a delete', async () => {
    const written = run.key('tx-rb-del');
    const guarded = run.key('tx-rb-del');
    await run.api.save([{ key: guarded, value: 'v1' }]);
    const stale = (await run.api.read(guarded)).etag;
    await run.api.save([{ key: guarded, value: 'v2' }]);
    const res = await run.api.transact([
      { operation: 'upsert', request: { key: written, value: 'new' } },
      { operation: 'delete', request: { key: guarded, etag: stale } },
    ]);
    expect(res.status).toBe(500);
    expect((await run.api.get(written)).status).toBe(204);
    expect((await run.api.read(guarded)).value).toBe('v2');
  });

  it('rejects an operation other than upsert or delete with 400 ERR_NOT_SUPPORTED_STATE_OPERATION', async () => {
    const key = run.key('tx-op');
    const res = await run.api.transact([
      { operation: 'upsert', request: { key, value: 1 } },
      { operation: 'merge', request: { key, value: 2 } },
    ]);
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('ERR_NOT_SUPPORTED_STATE_OPERATION');
    expect((await run.api.get(key)).status).toBe(204);
  });
}
