/**
 * Conformance cases for single-key reads and writes over HTTP: CRUD, etags on save and delete, key
 * validation, large values, unicode keys and bulk get (dapr-api.md §1.2).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { errorCode, expectJsonBack } from './state-harness.js';
import type { DriverRun } from './state-harness.js';

/** A well-formed etag in the driver's format that no stored value carries. */
export function foreignEtag(run: DriverRun): string {
  return run.driver.etagFormat === 'numeric' ? '4000000000' : randomUUID();
}

/** Asserts the etag has the driver's declared format. */
export function expectEtagFormat(run: DriverRun, etag: string | null): void {
  expect(etag).toMatch(run.driver.etagFormat === 'numeric' ? /^\d+$/ : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
}

/** Registers the CRUD and etag cases. */
export function crudCases(run: DriverRun): void {
  it('saves a JSON value and reads it back byte for byte with an ETag header', async () => {
    const key = run.key('crud');
    // Key order and spacing must survive: stores that normalise JSON (jsonb) would change both.
    const value = { zeta: 1, alpha: [1, 2.5, 'x'], nested: { b: null, a: true } };
    expect((await run.api.save([{ key, value }])).status).toBe(204);
    const res = await run.api.get(key);
    expect(res.status).toBe(200);
    expectJsonBack(run, res.body, value);
    expect(res.headers.get('content-type')).toBe('application/json');
    expectEtagFormat(run, res.headers.get('etag'));
  });

  it('stores strings, numbers, booleans, null and arrays as the JSON that was sent', async () => {
    const values: unknown[] = ['hello', 42, -0.5, true, null, [1, 'two', { three: 3 }], ''];
    const keys = values.map(() => run.key('types'));
    expect((await run.api.save(values.map((value, i) => ({ key: keys[i], value })))).status).toBe(204);
    for (const [i, value] of values.entries()) {
      const res = await run.api.get(keys[i] as string);
      expect(res.status).toBe(200);
      expectJsonBack(run, res.body, value);
    }
  });

  it('returns 204 with an empty body for a key that does not exist', async () => {
    const res = await run.api.get(run.key('missing'));
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    expect(res.headers.get('etag')).toBeNull();
  });

  it('changes the etag on every write and returns the new value', async () => {
    const key = run.key('etag-change');
    await run.api.save([{ key, value: 1 }]);
    const first = await run.api.read(key);
    await run.api.save([{ key, value: 2 }]);
    const second = await run.api.read(key);
    expect(second.value).toBe(2);
    expect(second.etag).not.toBe(first.etag);
    expectEtagFormat(run, second.etag);
  });

  it('deletes a key so a later get returns 204, and deleting a missing key returns 204', async () => {
    const key = run.key('delete');
    await run.api.save([{ key, value: 'x' }]);
    expect((await run.api.delete(key)).status).toBe(204);
    expect((await run.api.get(key)).status).toBe(204);
    expect((await run.api.delete(key)).status).toBe(204);
  });

  it('saves when the etag matches the stored one', async () => {
    const key = run.key('etag-ok');
    await run.api.save([{ key, value: 'v1' }]);
    const { etag } = await run.api.read(key);
    expect((await run.api.save([{ key, value: 'v2', etag }])).status).toBe(204);
    expect((await run.api.read(key)).value).toBe('v2');
  });

  it('returns 409 ERR_STATE_SAVE when the etag is stale and keeps the stored value', async () => {
    const key = run.key('etag-stale');
    await run.api.save([{ key, value: 'v1' }]);
    const stale = (await run.api.read(key)).etag;
    await run.api.save([{ key, value: 'v2' }]);
    const res = await run.api.save([{ key, value: 'v3', etag: stale }]);
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe('ERR_STATE_SAVE');
    expect((await run.api.read(key)).value).toBe('v2');
  });

  if (run.driver.etagOnMissingKey === 'conflict') {
    it('returns 409 ERR_STATE_SAVE when an etag is given for a key that does not exist', async () => {
      const key = run.key('etag-absent');
      const res = await run.api.save([{ key, value: 'v', etag: foreignEtag(run) }]);
      expect(res.status).toBe(409);
      expect(errorCode(res)).toBe('ERR_STATE_SAVE');
      expect((await run.api.get(key)).status).toBe(204);
    });
  } else {
    it('saves a key that does not exist even when an etag is given, as Dapr does', async () => {
      const key = run.key('etag-absent');
      expect((await run.api.save([{ key, value: 'v', etag: foreignEtag(run) }])).status).toBe(204);
      expect((await run.api.read(key)).value).toBe('v');
      // Once the key exists, the etag is checked again.
      const res = await run.api.save([{ key, value: 'w', etag: foreignEtag(run) }]);
      expect(res.status).toBe(409);
      expect(errorCode(res)).toBe('ERR_STATE_SAVE');
    });
  }

  if (run.driver.malformedEtag.save === 'invalid') {
    it('returns 400 ERR_STATE_SAVE for a malformed etag', async () => {
      const key = run.key('etag-bad');
      await run.api.save([{ key, value: 'v1' }]);
      const res = await run.api.save([{ key, value: 'v2', etag: 'not-an-etag' }]);
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('ERR_STATE_SAVE');
      expect((await run.api.read(key)).value).toBe('v1');
    });
  } else {
    it('returns 409 ERR_STATE_SAVE for an etag of any format that does not match, as Dapr does', async () => {
      const key = run.key('etag-bad');
      await run.api.save([{ key, value: 'v1' }]);
      for (const etag of ['not-an-etag', '12', 'ÿ-ключ']) {
        const res = await run.api.save([{ key, value: 'v2', etag }]);
        expect(res.status).toBe(409);
        expect(errorCode(res)).toBe('ERR_STATE_SAVE');
      }
      expect((await run.api.read(key)).value).toBe('v1');
    });
  }

  it('returns 409 ERR_STATE_DELETE for a stale If-Match and 204 for the current one', async () => {
    const key = run.key('delete-etag');
    await run.api.save([{ key, value: 'v1' }]);
    const stale = (await run.api.read(key)).etag;
    await run.api.save([{ key, value: 'v2' }]);
    const conflict = await run.api.delete(key, stale);
    expect(conflict.status).toBe(409);
    expect(errorCode(conflict)).toBe('ERR_STATE_DELETE');
    expect((await run.api.get(key)).status).toBe(200);
    const current = (await run.api.read(key)).etag;
    expect((await run.api.delete(key, current)).status).toBe(204);
    expect((await run.api.get(key)).status).toBe(204);
  });

  if (run.driver.malformedEtag.delete === 'invalid') {
    it('returns 400 ERR_STATE_DELETE for a malformed If-Match etag', async () => {
      const key = run.key('delete-bad');
      await run.api.save([{ key, value: 'v1' }]);
      const res = await run.api.delete(key, 'not-an-etag');
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('ERR_STATE_DELETE');
      expect((await run.api.get(key)).status).toBe(200);
    });
  } else {
    it('returns 409 ERR_STATE_DELETE for an If-Match of any format that does not match, as Dapr does', async () => {
      const key = run.key('delete-bad');
      await run.api.save([{ key, value: 'v1' }]);
      const res = await run.api.delete(key, 'not-an-etag');
      expect(res.status).toBe(409);
      expect(errorCode(res)).toBe('ERR_STATE_DELETE');
      expect((await run.api.get(key)).status).toBe(200);
    });
  }

  if (run.driver.etagOnMissingKey === 'conflict') {
    it('returns 409 ERR_STATE_DELETE for an If-Match on a key that does not exist', async () => {
      const res = await run.api.delete(run.key('delete-absent'), foreignEtag(run));
      expect(res.status).toBe(409);
      expect(errorCode(res)).toBe('ERR_STATE_DELETE');
    });
  } else {
    it('returns 204 for an If-Match on a key that does not exist, as Dapr does', async () => {
      expect((await run.api.delete(run.key('delete-absent'), foreignEtag(run))).status).toBe(204);
    });
  }

  it('rejects a key containing || with 400 ERR_MALFORMED_REQUEST on save, get, delete and bulk get', async () => {
    const key = 'bad||key';
    const responses = [
      await run.api.save([{ key, value: 1 }]),
      await run.api.get(key),
      await run.api.delete(key),
      await run.api.bulkGet([key]),
    ];
    for (const res of responses) {
      expect(res.status).toBe(400);
      expect(errorCode(res)).toBe('ERR_MALFORMED_REQUEST');
    }
  });

  it('round-trips a 1 MB value byte for byte', async () => {
    const key = run.key('large');
    // Mixed ASCII, multi-byte characters and characters JSON must escape.
    const unit = 'abc-ключ-🔑-键-"quoted"-\\-\n-\t-';
    const text = unit.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(unit)));
    const value = { b: text, a: 1 };
    expect((await run.api.save([{ key, value }])).status).toBe(204);
    const res = await run.api.get(key);
    expect(res.status).toBe(200);
    expect(res.body.length).toBeGreaterThan(1024 * 1024);
    if (run.driver.normalisesJson) expectJsonBack(run, res.body, value);
    else expect(res.body.equals(Buffer.from(JSON.stringify(value)))).toBe(true);
  });

  it('round-trips a unicode key through save, get, bulk get and delete', async () => {
    const key = `ключ-🔑-键-${run.runId}`;
    expect((await run.api.save([{ key, value: { ok: '✓' } }])).status).toBe(204);
    expect((await run.api.read(key)).value).toEqual({ ok: '✓' });
    const bulk = await run.api.bulkGet([key]);
    expect(bulk.json).toEqual([expect.objectContaining({ key, data: { ok: '✓' } })]);
    expect((await run.api.delete(key)).status).toBe(204);
    expect((await run.api.get(key)).status).toBe(204);
  });

  it('bulk get returns data and etag for present keys and only the key for missing ones', async () => {
    const a = run.key('bulk');
    const b = run.key('bulk');
    const missing = run.key('bulk-missing');
    await run.api.save([
      { key: a, value: { n: 1 } },
      { key: b, value: 'two' },
    ]);
    const etagA = (await run.api.read(a)).etag;
    const res = await run.api.bulkGet([a, missing, b]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const entries = res.json as Record<string, unknown>[];
    expect(entries).toHaveLength(3);
    expect(entries[0]).toEqual({ key: a, data: { n: 1 }, etag: etagA });
    expect(entries[1]).toEqual({ key: missing });
    expect(entries[2]).toMatchObject({ key: b, data: 'two' });
    for (const entry of entries) expect(entry).not.toHaveProperty('value');
  });
}
