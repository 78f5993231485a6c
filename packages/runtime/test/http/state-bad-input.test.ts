/**
 * The state API over HTTP answering bad input the way daprd does (dapr-api.md §1.2, §1.14): status,
 * content type, `errorCode` and, for rich errors, the ErrorInfo reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import { call, errorCodeOf, reasonOf } from './http-client.js';
import type { ApiResponse } from './http-client.js';
import { registryWithPlainStore, startSidecarWithRegistry } from './registry-sidecar.js';

const component = (name: string, type: string) =>
  `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n`;

let sidecar: TestSidecar;
const api = (method: string, route: string, body?: unknown, headers?: Record<string, string>) =>
  call(sidecar.baseUrl, method, route, body, headers);

function expectError(res: ApiResponse, status: number, code: string, reason?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.contentType).toMatch(/^application\/json/);
  expect(errorCodeOf(res), res.text).toBe(code);
  expect(typeof (res.json as { message?: unknown }).message).toBe('string');
  if (reason) expect(reasonOf(res), res.text).toBe(reason);
}

beforeAll(async () => {
  sidecar = await startSidecarWithRegistry(registryWithPlainStore(), {
    resources: [component('store', 'state.in-memory'), component('plain', 'state.plain')],
  });
});

afterAll(async () => {
  await sidecar?.stop();
});

describe('state API bad input', () => {
  it('returns 400 ERR_MALFORMED_REQUEST for a body that is not JSON, on every route that reads one', async () => {
    for (const route of ['/v1.0/state/store', '/v1.0/state/store/bulk', '/v1.0/state/store/transaction', '/v1.0-alpha1/state/store/query']) {
      expectError(await api('POST', route, '{"key": "a", "value": '), 400, 'ERR_MALFORMED_REQUEST');
      expectError(await api('PUT', route, 'not json at all'), 400, 'ERR_MALFORMED_REQUEST');
    }
  });

  it('returns 400 ERR_MALFORMED_REQUEST for an empty save body and for a body that is not an array', async () => {
    expectError(await api('POST', '/v1.0/state/store', ''), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store', { key: 'a', value: 1 }), 400, 'ERR_MALFORMED_REQUEST');
  });

  it('answers 204 to a save of an empty array', async () => {
    const res = await api('POST', '/v1.0/state/store', []);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it('returns 400 with "key" is a required field for a save item without a key', async () => {
    for (const item of [{ value: 1 }, { key: '', value: 1 }, { key: null, value: 1 }]) {
      const res = await api('POST', '/v1.0/state/store', [item]);
      expectError(res, 400, 'ERR_MALFORMED_REQUEST');
      expect((res.json as { message: string }).message).toBe('"key" is a required field');
    }
  });

  it('returns 400 ERR_MALFORMED_REQUEST for wrongly typed item fields', async () => {
    expectError(await api('POST', '/v1.0/state/store', [{ key: 5, value: 1 }]), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store', [{ key: 'a', etag: 7 }]), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store', [{ key: 'a', metadata: 'x' }]), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store', [{ key: 'a', options: { concurrency: 'sometimes' } }]), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store', ['not an object']), 400, 'ERR_MALFORMED_REQUEST');
  });

  it('returns 400 ERR_MALFORMED_REQUEST with reason DAPR_STATE_ILLEGAL_KEY for a key containing ||', async () => {
    const illegal = 'a||b';
    expectError(await api('POST', '/v1.0/state/store', [{ key: illegal, value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', 'DAPR_STATE_ILLEGAL_KEY');
    expectError(await api('GET', `/v1.0/state/store/${illegal}`), 400, 'ERR_MALFORMED_REQUEST', 'DAPR_STATE_ILLEGAL_KEY');
    expectError(await api('GET', `/v1.0/state/store/${encodeURIComponent(illegal)}`), 400, 'ERR_MALFORMED_REQUEST', 'DAPR_STATE_ILLEGAL_KEY');
    expectError(await api('DELETE', `/v1.0/state/store/${illegal}`), 400, 'ERR_MALFORMED_REQUEST', 'DAPR_STATE_ILLEGAL_KEY');
    expectError(await api('POST', '/v1.0/state/store/bulk', { keys: ['ok', illegal] }), 400, 'ERR_MALFORMED_REQUEST', 'DAPR_STATE_ILLEGAL_KEY');
    expectError(
      await api('POST', '/v1.0/state/store/transaction', { operations: [{ operation: 'upsert', request: { key: illegal, value: 1 } }] }),
      400,
      'ERR_MALFORMED_REQUEST',
      'DAPR_STATE_ILLEGAL_KEY',
    );
  });

  it('returns 400 ERR_STATE_STORE_NOT_FOUND with reason DAPR_STATE_NOT_FOUND for an unknown store on every route', async () => {
    const calls: [string, string, unknown][] = [
      ['GET', '/v1.0/state/nope/k', undefined],
      ['DELETE', '/v1.0/state/nope/k', undefined],
      ['POST', '/v1.0/state/nope', [{ key: 'k', value: 1 }]],
      ['POST', '/v1.0/state/nope/bulk', { keys: ['k'] }],
      ['POST', '/v1.0/state/nope/transaction', { operations: [] }],
      ['POST', '/v1.0-alpha1/state/nope/query', { filter: {} }],
    ];
    for (const [method, route, body] of calls) {
      const res = await api(method, route, body);
      expectError(res, 400, 'ERR_STATE_STORE_NOT_FOUND', 'DAPR_STATE_NOT_FOUND');
      expect((res.json as { details: { metadata: Record<string, string> }[] }).details[0]?.metadata).toEqual({ appID: 'test-app' });
    }
  });

  it('returns 409 ERR_STATE_SAVE for a stale etag and keeps the stored value', async () => {
    await api('POST', '/v1.0/state/store', [{ key: 'stale', value: 'first' }]);
    const staleEtag = (await api('GET', '/v1.0/state/store/stale')).headers.get('etag') ?? '';
    await api('POST', '/v1.0/state/store', [{ key: 'stale', value: 'second' }]);
    expectError(await api('POST', '/v1.0/state/store', [{ key: 'stale', value: 'third', etag: staleEtag }]), 409, 'ERR_STATE_SAVE');
    expect((await api('GET', '/v1.0/state/store/stale')).json).toBe('second');
  });

  it('returns 400 ERR_STATE_SAVE for an etag the store cannot have minted', async () => {
    await api('POST', '/v1.0/state/store', [{ key: 'badetag', value: 1 }]);
    expectError(await api('POST', '/v1.0/state/store', [{ key: 'badetag', value: 2, etag: 'not-a-version' }]), 400, 'ERR_STATE_SAVE');
  });

  it('returns 409 ERR_STATE_DELETE for a stale If-Match and 400 ERR_STATE_DELETE for a malformed one', async () => {
    await api('POST', '/v1.0/state/store', [{ key: 'del', value: 1 }]);
    const etag = (await api('GET', '/v1.0/state/store/del')).headers.get('etag') ?? '';
    await api('POST', '/v1.0/state/store', [{ key: 'del', value: 2 }]);
    expectError(await api('DELETE', '/v1.0/state/store/del', undefined, { 'if-match': etag }), 409, 'ERR_STATE_DELETE');
    expectError(await api('DELETE', '/v1.0/state/store/del', undefined, { 'if-match': 'zzz' }), 400, 'ERR_STATE_DELETE');
    expect((await api('GET', '/v1.0/state/store/del')).json).toBe(2);
  });

  it('returns 400 ERR_NOT_SUPPORTED_STATE_OPERATION for an unknown transaction operation and applies none of it', async () => {
    const res = await api('POST', '/v1.0/state/store/transaction', {
      operations: [
        { operation: 'upsert', request: { key: 'tx-before', value: 1 } },
        { operation: 'merge', request: { key: 'tx-merge', value: 2 } },
      ],
    });
    expectError(res, 400, 'ERR_NOT_SUPPORTED_STATE_OPERATION');
    expect((res.json as { message: string }).message).toContain('merge');
    expect((await api('GET', '/v1.0/state/store/tx-before')).status).toBe(204);
  });

  it('returns 400 ERR_MALFORMED_REQUEST for a transaction whose shape is wrong', async () => {
    expectError(await api('POST', '/v1.0/state/store/transaction', { operations: {} }), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store/transaction', { operations: [{ operation: 'upsert' }] }), 400, 'ERR_MALFORMED_REQUEST');
    expectError(await api('POST', '/v1.0/state/store/transaction', [1, 2]), 400, 'ERR_MALFORMED_REQUEST');
  });

  it('returns 500 ERR_STATE_STORE_NOT_SUPPORTED for a transaction on a store without TRANSACTIONAL', async () => {
    const res = await api('POST', '/v1.0/state/plain/transaction', { operations: [{ operation: 'upsert', request: { key: 'k', value: 1 } }] });
    expectError(res, 500, 'ERR_STATE_STORE_NOT_SUPPORTED', 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED');
    expect((await api('GET', '/v1.0/state/plain/k')).status).toBe(204);
  });

  it('returns 500 ERR_STATE_STORE_NOT_SUPPORTED for a query on a store without QUERY_API', async () => {
    expectError(await api('POST', '/v1.0-alpha1/state/plain/query', { filter: {} }), 500, 'ERR_STATE_STORE_NOT_SUPPORTED', 'DAPR_STATE_QUERYING_NOT_SUPPORTED');
  });

  it('serves a store without bulk get through per-key reads', async () => {
    await api('POST', '/v1.0/state/plain', [{ key: 'p1', value: { a: 1 } }]);
    const res = await api('POST', '/v1.0/state/plain/bulk', { keys: ['p1', 'p2'] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual([{ key: 'p1', data: { a: 1 }, etag: expect.any(String) as string }, { key: 'p2' }]);
  });
});

describe('state API URL tolerance', () => {
  beforeAll(async () => {
    await api('POST', '/v1.0/state/store', [{ key: 'url', value: { ok: true } }]);
  });

  it('tolerates a trailing ?, a trailing / and doubled slashes', async () => {
    for (const route of ['/v1.0/state/store/url?', '/v1.0/state/store/url/', '//v1.0//state/store//url', '/v1.0/state//store/url/?']) {
      const res = await api('GET', route);
      expect(res.status, route).toBe(200);
      expect(res.json, route).toEqual({ ok: true });
    }
    expect((await api('POST', '/v1.0/state/store/', [{ key: 'url2', value: 2 }])).status).toBe(204);
    expect((await api('POST', '//v1.0/state/store?', [{ key: 'url3', value: 3 }])).status).toBe(204);
    expect((await api('GET', '/v1.0/state/store/url3')).json).toBe(3);
  });

  it('passes metadata.* query parameters to the store: ttlInSeconds from the URL sets an expiry', async () => {
    const before = Date.now();
    expect((await api('POST', '/v1.0/state/store?metadata.ttlInSeconds=100', [{ key: 'ttl', value: 1 }])).status).toBe(204);
    const res = await api('GET', '/v1.0/state/store/ttl');
    const expiry = Date.parse(res.headers.get('metadata.ttlExpireTime') ?? '');
    expect(expiry).toBeGreaterThanOrEqual(before + 100_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 100_000);
  });

  it('lets the URL ttlInSeconds override the item metadata, and leaves items without TTL unexpiring', async () => {
    await api('POST', '/v1.0/state/store?metadata.ttlInSeconds=-1', [{ key: 'ttl-override', value: 1, metadata: { ttlInSeconds: '5' } }]);
    expect((await api('GET', '/v1.0/state/store/ttl-override')).headers.get('metadata.ttlExpireTime')).toBeNull();
  });

  it('returns 400 ERR_MALFORMED_REQUEST for a ttlInSeconds that is not a base-10 integer from -1 to 2147483647', async () => {
    for (const ttl of ['soon', '1e3', '0x10', '1.5', '-2', '2147483648', '99999999999999999999']) {
      const res = await api('POST', `/v1.0/state/store?metadata.ttlInSeconds=${ttl}`, [{ key: 'ttl-bad', value: 1 }]);
      expectError(res, 400, 'ERR_MALFORMED_REQUEST');
      expect((res.json as { message: string }).message, ttl).toContain('ttlInSeconds');
    }
    expect((await api('GET', '/v1.0/state/store/ttl-bad')).status).toBe(204);
  });

  it('accepts the largest ttlInSeconds Dapr accepts and keeps the key readable', async () => {
    expect((await api('POST', '/v1.0/state/store?metadata.ttlInSeconds=2147483647', [{ key: 'ttl-max', value: 'far' }])).status).toBe(204);
    const res = await api('GET', '/v1.0/state/store/ttl-max');
    expect(res.status).toBe(200);
    expect(res.json).toBe('far');
    expect(Date.parse(res.headers.get('metadata.ttlExpireTime') ?? '')).toBeGreaterThan(Date.now() + 2_147_483_000 * 1000);
    expect((await api('POST', '/v1.0/state/store/bulk', { keys: ['ttl-max'] })).status).toBe(200);
  });
});
