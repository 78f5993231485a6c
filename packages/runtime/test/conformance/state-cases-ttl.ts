/**
 * Conformance cases for TTL: `ttlInSeconds` from item metadata, the URL and transactions, the
 * `metadata.ttlExpireTime` header, `-1` for never, and what an expired key means for etags and
 * first-write. These wait for real expiry (two to three seconds each), so they never assert that a
 * short-lived value is still there: on a loaded machine it may already be gone.
 */
import { expect } from 'vitest';
import { foreignEtag } from './state-cases-crud.js';
import { casesRequiring, sleep } from './state-harness.js';
import type { DriverRun } from './state-harness.js';

/** Long enough for a 1-second TTL to pass on every backend (Redis expires with ms precision). */
const PAST_ONE_SECOND_MS = 2100;
const PAST_TWO_SECONDS_MS = 3100;

/** Registers the TTL cases (skipped, with the reason, for a driver without TTL). */
export function ttlCases(run: DriverRun): void {
  const register = casesRequiring(run, 'TTL');
  register('reports metadata.ttlExpireTime on get and bulk get for a value saved with a TTL', async () => {
    const viaItem = run.key('ttl-header');
    const viaUrl = run.key('ttl-header');
    const before = Date.now();
    expect((await run.api.save([{ key: viaItem, value: 'v', metadata: { ttlInSeconds: '60' } }])).status).toBe(204);
    expect((await run.api.save([{ key: viaUrl, value: 'v' }], 'metadata.ttlInSeconds=60')).status).toBe(204);
    for (const key of [viaItem, viaUrl]) {
      const res = await run.api.get(key);
      expect(res.status).toBe(200);
      const expiresAt = Date.parse(res.headers.get('metadata.ttlExpireTime') ?? '');
      // Backends keep expiry at second or millisecond precision, so allow a second either way.
      expect(expiresAt).toBeGreaterThanOrEqual(before + 59_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 61_000);
    }
    const bulk = (await run.api.bulkGet([viaItem])).json as { metadata?: Record<string, string> }[];
    expect(Date.parse(bulk[0]?.metadata?.['ttlExpireTime'] ?? '')).toBeGreaterThanOrEqual(before + 59_000);
  });

  register('expires values saved with ttlInSeconds 1, from item metadata or the URL, within about two seconds', async () => {
    const viaItem = run.key('ttl');
    const viaUrl = run.key('ttl');
    expect((await run.api.save([{ key: viaItem, value: 'short', metadata: { ttlInSeconds: '1' } }])).status).toBe(204);
    expect((await run.api.save([{ key: viaUrl, value: 'short' }], 'metadata.ttlInSeconds=1')).status).toBe(204);
    await sleep(PAST_ONE_SECOND_MS);
    expect((await run.api.get(viaItem)).status).toBe(204);
    expect((await run.api.get(viaUrl)).status).toBe(204);
    expect((await run.api.bulkGet([viaItem])).json).toEqual([{ key: viaItem }]);
  });

  register('keeps a value saved with ttlInSeconds -1, also when it replaces a value that had a TTL', async () => {
    const key = run.key('ttl-never');
    await run.api.save([{ key, value: 'short', metadata: { ttlInSeconds: '1' } }]);
    expect((await run.api.save([{ key, value: 'forever', metadata: { ttlInSeconds: '-1' } }])).status).toBe(204);
    const res = await run.api.get(key);
    expect(res.headers.get('metadata.ttlExpireTime')).toBeNull();
    await sleep(PAST_ONE_SECOND_MS);
    expect((await run.api.read(key)).value).toBe('forever');
  });

  register('drops the TTL when a value is overwritten without one', async () => {
    const key = run.key('ttl-cleared');
    await run.api.save([{ key, value: 'short', metadata: { ttlInSeconds: '1' } }]);
    await run.api.save([{ key, value: 'plain' }]);
    expect((await run.api.get(key)).headers.get('metadata.ttlExpireTime')).toBeNull();
    await sleep(PAST_ONE_SECOND_MS);
    expect((await run.api.read(key)).value).toBe('plain');
  });

  register('applies the ttlInSeconds of transaction upserts', async () => {
    const short = run.key('ttl-tx');
    const long = run.key('ttl-tx');
    const res = await run.api.transact([
      { operation: 'upsert', request: { key: short, value: 'short', metadata: { ttlInSeconds: '1' } } },
      { operation: 'upsert', request: { key: long, value: 'long', metadata: { ttlInSeconds: '60' } } },
    ]);
    expect(res.status).toBe(204);
    expect((await run.api.get(long)).headers.get('metadata.ttlExpireTime')).not.toBeNull();
    await sleep(PAST_ONE_SECOND_MS);
    expect((await run.api.get(short)).status).toBe(204);
    expect((await run.api.read(long)).value).toBe('long');
  });

  register('treats an expired key as absent: its etag no longer matches and first-write may create it again', async () => {
    const key = run.key('ttl-absent');
    // Two seconds leave time to read the etag before expiry even on a loaded machine.
    await run.api.save([{ key, value: 'short', metadata: { ttlInSeconds: '2' } }]);
    const { etag } = await run.api.read(key);
    await sleep(PAST_TWO_SECONDS_MS);
    // A store that ignores an etag on a missing key (Dapr's Redis) lets both through.
    const etagStatus = run.driver.etagOnMissingKey === 'conflict' ? 409 : 204;
    expect((await run.api.delete(key, etag)).status).toBe(etagStatus);
    expect((await run.api.delete(key, foreignEtag(run))).status).toBe(etagStatus);
    expect((await run.api.save([{ key, value: 'late', etag }])).status).toBe(etagStatus);
    if (etagStatus === 204) expect((await run.api.delete(key)).status).toBe(204);
    expect((await run.api.save([{ key, value: 'again', options: { concurrency: 'first-write' } }])).status).toBe(204);
    expect((await run.api.read(key)).value).toBe('again');
  });
}
