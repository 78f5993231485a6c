/**
 * `dapr-api-token` enforcement (401 plain text `invalid api token`, health exempt) and the request
 * body limit (413, the server keeps serving), over HTTP against an in-process sidecar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import { call, errorCodeOf } from './http-client.js';

const STATESTORE = 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n  type: state.in-memory\n  version: v1\n';

describe('dapr-api-token', () => {
  const TOKEN = 'sup3r-secret-token';
  let sidecar: TestSidecar;

  beforeAll(async () => {
    sidecar = await startTestSidecar({ resources: [STATESTORE], apiToken: TOKEN });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('returns 401 plain text "invalid api token" when the header is missing or wrong, on every API', async () => {
    const requests: [string, string, unknown][] = [
      ['GET', '/v1.0/state/store/k', undefined],
      ['POST', '/v1.0/state/store', [{ key: 'k', value: 1 }]],
      ['GET', '/v1.0/metadata', undefined],
      ['PUT', '/v1.0/metadata/k', 'v'],
      ['GET', '/v1.0/secrets/any/bulk', undefined],
      ['POST', '/v1.0/shutdown', undefined],
      ['GET', '/v1.0/no/such/route', undefined],
    ];
    const wrong: Record<string, string>[] = [{}, { 'dapr-api-token': 'wrong' }, { 'dapr-api-token': `${TOKEN}x` }, { 'dapr-api-token': '' }];
    for (const headers of wrong) {
      for (const [method, route, body] of requests) {
        const res = await call(sidecar.baseUrl, method, route, body, headers);
        expect(res.status, `${method} ${route}`).toBe(401);
        expect(res.contentType).toMatch(/^text\/plain/);
        expect(res.text).toBe('invalid api token');
      }
    }
    // Nothing was written by the refused save.
    const check = await call(sidecar.baseUrl, 'GET', '/v1.0/state/store/k', undefined, { 'dapr-api-token': TOKEN });
    expect(check.status).toBe(204);
  });

  it('serves requests that carry the right token', async () => {
    const auth = { 'dapr-api-token': TOKEN };
    expect((await call(sidecar.baseUrl, 'POST', '/v1.0/state/store', [{ key: 'ok', value: 1 }], auth)).status).toBe(204);
    const res = await call(sidecar.baseUrl, 'GET', '/v1.0/state/store/ok', undefined, auth);
    expect(res.status).toBe(200);
    expect(res.json).toBe(1);
  });

  it('exempts healthz and healthz/outbound from the token', async () => {
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz')).status).toBe(204);
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz/outbound')).status).toBe(204);
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz/outbound', undefined, { 'dapr-api-token': 'wrong' })).status).toBe(204);
  });
});

describe('request body limit', () => {
  const LIMIT = 1024;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    sidecar = await startTestSidecar({ resources: [STATESTORE], maxRequestBodyBytes: LIMIT });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  const oversizeItems = () => JSON.stringify([{ key: 'big', value: 'x'.repeat(LIMIT * 4) }]);

  it('returns 413 with a JSON error for a body over the limit declared by content-length, and stores nothing', async () => {
    const res = await call(sidecar.baseUrl, 'POST', '/v1.0/state/store', oversizeItems());
    expect(res.status).toBe(413);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(errorCodeOf(res)).toBe('ERR_BODY_READ');
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/state/store/big')).status).toBe(204);
  });

  it('returns 413 for a chunked body that grows past the limit', async () => {
    const bytes = new TextEncoder().encode(oversizeItems());
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 256) controller.enqueue(bytes.subarray(i, i + 256));
        controller.close();
      },
    });
    const res = await fetch(`${sidecar.baseUrl}/v1.0/state/store`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_BODY_READ');
  });

  it('keeps serving after refusing oversize bodies', async () => {
    for (let i = 0; i < 5; i++) await call(sidecar.baseUrl, 'PUT', '/v1.0/state/store', oversizeItems());
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz/outbound')).status).toBe(204);
    expect((await call(sidecar.baseUrl, 'POST', '/v1.0/state/store', [{ key: 'small', value: 'fits' }])).status).toBe(204);
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/state/store/small')).json).toBe('fits');
  });

  it('accepts a body of exactly the limit', async () => {
    const prefix = '[{"key":"exact","value":"';
    const suffix = '"}]';
    const body = prefix + 'y'.repeat(LIMIT - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    expect((await call(sidecar.baseUrl, 'POST', '/v1.0/state/store', body)).status).toBe(204);
  });
});
