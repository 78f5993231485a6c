/**
 * The metadata API (`GET /v1.0/metadata`, `PUT /v1.0/metadata/{key}`) and the health endpoints over
 * HTTP, with Dapr's field names and codes (dapr-api.md §1.10, §1.11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import { freePort } from '../../../../test/support/weft-process.js';
import { RUNTIME_VERSION } from '../../src/index.js';
import { call, errorCodeOf } from './http-client.js';

const ACTOR_STORE =
  'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - name: actorStateStore\n    value: "true"\n';

interface Metadata {
  id: string;
  runtimeVersion: string;
  components: { name: string; type: string; version: string; capabilities: string[] }[];
  extended: Record<string, string>;
  appConnectionProperties: { port?: number; protocol: string; channelAddress: string };
}

describe('metadata API and health with an app port nobody listens on', () => {
  let sidecar: TestSidecar;
  let appPort: number;

  beforeAll(async () => {
    appPort = await freePort();
    sidecar = await startTestSidecar({ resources: [ACTOR_STORE], appId: 'meta-app', appPort });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('returns 200 JSON with id, runtimeVersion, component capabilities, extended and appConnectionProperties', async () => {
    const res = await call(sidecar.baseUrl, 'GET', '/v1.0/metadata');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    const body = res.json as Metadata;
    expect(body.id).toBe('meta-app');
    expect(body.runtimeVersion).toBe(RUNTIME_VERSION);
    expect(body.components).toEqual([
      { name: 'store', type: 'state.in-memory', version: 'v1', capabilities: expect.arrayContaining(['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']) as string[] },
    ]);
    expect(body.extended).toMatchObject({ daprRuntimeVersion: RUNTIME_VERSION });
    expect(body.appConnectionProperties).toMatchObject({ port: appPort, protocol: 'http', channelAddress: '127.0.0.1' });
  });

  it('stores PUT /v1.0/metadata/{key} bodies in extended', async () => {
    const put = await call(sidecar.baseUrl, 'PUT', '/v1.0/metadata/cliPID', '4242');
    expect(put.status).toBe(204);
    expect(put.text).toBe('');
    await call(sidecar.baseUrl, 'PUT', '/v1.0/metadata/appCommand', 'node app.js --flag "quoted"');
    const body = (await call(sidecar.baseUrl, 'GET', '/v1.0/metadata')).json as Metadata;
    expect(body.extended).toMatchObject({ cliPID: '4242', appCommand: 'node app.js --flag "quoted"' });
  });

  it('answers healthz 500 ERR_HEALTH_NOT_READY while the app port is closed, and healthz/outbound 204', async () => {
    const health = await call(sidecar.baseUrl, 'GET', '/v1.0/healthz');
    expect(health.status).toBe(500);
    expect(health.contentType).toMatch(/^application\/json/);
    expect(errorCodeOf(health)).toBe('ERR_HEALTH_NOT_READY');
    const outbound = await call(sidecar.baseUrl, 'GET', '/v1.0/healthz/outbound');
    expect(outbound.status).toBe(204);
    expect(outbound.text).toBe('');
  });

  it('answers healthz?appid=other with 500 ERR_HEALTH_APPID_NOT_MATCH', async () => {
    const res = await call(sidecar.baseUrl, 'GET', '/v1.0/healthz?appid=other');
    expect(res.status).toBe(500);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(errorCodeOf(res)).toBe('ERR_HEALTH_APPID_NOT_MATCH');
  });
});

describe('health without an app port', () => {
  let sidecar: TestSidecar;

  beforeAll(async () => {
    sidecar = await startTestSidecar({ resources: [ACTOR_STORE] });
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('answers healthz 204, also with its own app id', async () => {
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz')).status).toBe(204);
    expect((await call(sidecar.baseUrl, 'GET', '/v1.0/healthz?appid=test-app')).status).toBe(204);
  });

  it('omits the port from appConnectionProperties', async () => {
    const body = (await call(sidecar.baseUrl, 'GET', '/v1.0/metadata')).json as Metadata;
    expect(body.appConnectionProperties.port).toBeUndefined();
    expect(body.appConnectionProperties.protocol).toBe('http');
  });
});
