/**
 * The official `DaprClient` (HTTP and gRPC) against a real `weft sidecar` process: readiness,
 * metadata and secrets, with the exact shapes the SDK hands to the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import { ENV_SECRETS, PROTOCOLS, STORES, sdkClient, startCompatSidecar } from './support/compat-env.js';
import type { CompatSidecar } from './support/compat-env.js';
import { sdkGrpcError, sdkHttpError, thrownBy } from './support/sdk-errors.js';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_INTERNAL = 13;

let sidecar: CompatSidecar;

beforeAll(async () => {
  sidecar = await startCompatSidecar({ appId: 'compat-meta' });
});

afterAll(async () => {
  await sidecar?.close();
});

it('answers the metadata probe the HTTP SDK polls with a non-empty JSON body', async () => {
  const res = await fetch(`http://127.0.0.1:${sidecar.weft.httpPort}/v1.0/metadata`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { id: string };
  expect(body.id).toBe('compat-meta');
});

describe.each(PROTOCOLS)('DaprClient metadata and secrets over $name', ({ name, protocol }) => {
  const grpc = protocol === CommunicationProtocolEnum.GRPC;
  let client: DaprClient;

  beforeAll(async () => {
    client = sdkClient(sidecar.weft, protocol);
    await client.start();
  });

  afterAll(async () => {
    await client?.stop();
  });

  it('reports itself healthy once started', async () => {
    expect(client.daprClient.getIsInitialized()).toBe(true);
    expect(await client.health.isHealthy()).toBe(true);
  });

  it('returns the app id, every component with its capabilities, and the extended attributes', async () => {
    const metadata = await client.metadata.get();
    expect(metadata.id).toBe('compat-meta');
    const byName = Object.fromEntries(metadata.components.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual([STORES.envSecrets, STORES.fileSecrets, STORES.state].sort());
    expect(byName[STORES.state]).toMatchObject({ type: 'state.sqlite', version: 'v1' });
    // No store declares actorStateStore here: daprd lists ACTOR for every store with ETags and transactions.
    expect(byName[STORES.state]?.capabilities).toEqual(expect.arrayContaining(['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']));
    expect(byName[STORES.fileSecrets]).toEqual({ name: STORES.fileSecrets, type: 'secretstores.local.file', version: 'v1', capabilities: [] });
    expect(byName[STORES.envSecrets]).toEqual({ name: STORES.envSecrets, type: 'secretstores.local.env', version: 'v1', capabilities: [] });
    expect(metadata.extended['daprRuntimeVersion']).toMatch(/^\d+\.\d+\.\d+/);
    expect(metadata.actors).toEqual([]);
    // The gRPC client maps only these four fields; the HTTP client returns the whole body.
    if (grpc) expect(Object.keys(metadata).sort()).toEqual(['actors', 'components', 'extended', 'id']);
    else expect(metadata).toMatchObject({ runtimeVersion: expect.any(String), appConnectionProperties: { protocol: 'http' } });
  });

  it('stores an extended attribute with metadata.set and shows it in metadata.get', async () => {
    const key = `compat-${name}`;
    expect(await client.metadata.set(key, `value for ${name}`)).toBe(true);
    expect((await client.metadata.get()).extended[key]).toBe(`value for ${name}`);
  });

  it('gets a nested file secret as {"KEY":"value"} under its flattened name', async () => {
    const secret = await client.secret.get(STORES.fileSecrets, 'db:user');
    expect(JSON.stringify(secret)).toBe('{"db:user":"admin"}');
  });

  it('gets an env secret as {"KEY":"value"}', async () => {
    const secret = await client.secret.get(STORES.envSecrets, 'WEFT_COMPAT_SECRET');
    expect(JSON.stringify(secret)).toBe('{"WEFT_COMPAT_SECRET":"from-env"}');
  });

  it('gets all file secrets as {"KEY":{"KEY":"value"}}', async () => {
    const all = await client.secret.getBulk(STORES.fileSecrets);
    expect(all).toEqual({
      'db:user': { 'db:user': 'admin' },
      'db:password': { 'db:password': 's3cret' },
      greeting: { greeting: 'hello' },
    });
  });

  it('gets all env secrets in the same nested shape, without the sidecar\'s DAPR_ variables', async () => {
    const all = (await client.secret.getBulk(STORES.envSecrets)) as Record<string, Record<string, string>>;
    for (const [key, value] of Object.entries(ENV_SECRETS)) expect(all[key]).toEqual({ [key]: value });
    expect(Object.keys(all).filter((k) => k.startsWith('DAPR_'))).toEqual([]);
  });

  it('fails a missing secret with ERR_SECRET_GET', async () => {
    const err = await thrownBy(() => client.secret.get(STORES.fileSecrets, 'no-such-secret'));
    if (grpc) {
      const g = sdkGrpcError(err);
      expect(g.code).toBe(GRPC_INTERNAL);
      expect(g.rawMessage).toContain('failed getting secret with key no-such-secret from secret store filesecrets');
    } else {
      const h = sdkHttpError(err);
      expect(h.status).toBe(500);
      expect(h.body?.errorCode).toBe('ERR_SECRET_GET');
    }
  });

  it('fails an unknown secret store as Dapr does (HTTP 401, gRPC INVALID_ARGUMENT)', async () => {
    const err = await thrownBy(() => client.secret.get('no-such-store', 'k'));
    if (grpc) {
      expect(sdkGrpcError(err)).toMatchObject({ code: GRPC_INVALID_ARGUMENT, rawMessage: 'failed finding secret store with key no-such-store' });
    } else {
      const h = sdkHttpError(err);
      expect(h.status).toBe(401);
      expect(h.body).toEqual({ errorCode: 'ERR_SECRET_STORE_NOT_FOUND', message: 'failed finding secret store with key no-such-store' });
    }
  });
});
