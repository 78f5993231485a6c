/**
 * Etag answers that differ between Dapr's stores, through the official `DaprClient` over HTTP and
 * gRPC: Dapr's Redis store saves a key that does not exist whatever etag comes with it, and Dapr's
 * SQLite store answers an etag of any format that does not match with a conflict (409 / ABORTED),
 * never a bad request. An app written against Weft must see what it would see on Dapr.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { PROTOCOLS, sdkClient } from './support/compat-env.js';
import { sdkGrpcError, sdkHttpError, thrownBy } from './support/sdk-errors.js';

const GRPC_ABORTED = 10;
const redisUp = await requireService(SERVICES.redis, 'state etag fidelity on state.redis');

function component(name: string, type: string, metadata: Record<string, string>): string {
  const lines = Object.entries(metadata).map(([k, v]) => `  - name: ${k}\n    value: ${JSON.stringify(v)}`);
  return `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n  metadata:\n${lines.join('\n')}\n`;
}

let sidecar: TestSidecar;
const appId = `etag-fidelity-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const resources = [component('sqlite', 'state.sqlite', { connectionString: 'etag-fidelity.sqlite' })];
  if (redisUp) resources.push(component('redis', 'state.redis', { redisHost: REDIS_HOST }));
  sidecar = await startTestSidecar({ appId, resources });
});

afterAll(async () => {
  await sidecar?.stop();
});

/** The etag of one key, read the only way the SDK exposes it (bulk get). */
async function etagOf(client: DaprClient, store: string, key: string): Promise<string> {
  const [entry] = await client.state.getBulk(store, [key]);
  const etag = (entry as { etag?: string } | undefined)?.etag;
  if (!etag) throw new Error(`no etag for ${key}`);
  return etag;
}

describe.each(PROTOCOLS)('etag fidelity through DaprClient over $name', ({ name, protocol }) => {
  const grpc = protocol === CommunicationProtocolEnum.GRPC;
  let client: DaprClient;

  beforeAll(async () => {
    client = sdkClient({ httpPort: sidecar.sidecar.httpPort, grpcPort: sidecar.sidecar.grpcPort }, protocol);
    await client.start();
  });

  afterAll(async () => {
    await client?.stop();
  });

  /** Asserts the save was refused as an etag conflict (HTTP 409 ERR_STATE_SAVE, gRPC ABORTED). */
  async function expectConflict(save: () => Promise<unknown>, store: string): Promise<void> {
    if (grpc) {
      const err = sdkGrpcError(await thrownBy(save));
      expect(err.code).toBe(GRPC_ABORTED);
      expect(err.rawMessage).toContain(`failed saving state in state store ${store}`);
    } else {
      // The HTTP client resolves with {error} instead of throwing.
      const err = sdkHttpError(((await save()) as { error?: unknown }).error);
      expect(err.status).toBe(409);
      expect(err.body?.errorCode).toBe('ERR_STATE_SAVE');
    }
  }

  it('state.sqlite answers an etag that is not a UUID with a conflict, not a bad request', async () => {
    const key = `${name}-sqlite-${randomUUID()}`;
    await client.state.save('sqlite', [{ key, value: 'v1' }]);
    for (const etag of ['not-a-uuid', '7']) {
      await expectConflict(() => client.state.save('sqlite', [{ key, value: 'v2', etag }]), 'sqlite');
    }
    // A UUID that is not the stored etag is a conflict too; the current one still saves.
    await expectConflict(() => client.state.save('sqlite', [{ key, value: 'v2', etag: randomUUID() }]), 'sqlite');
    expect(await client.state.get('sqlite', key)).toBe('v1');
    expect(await client.state.save('sqlite', [{ key, value: 'v3', etag: await etagOf(client, 'sqlite', key) }])).toEqual({});
    expect(await client.state.get('sqlite', key)).toBe('v3');
  });

  it.skipIf(!redisUp)('state.redis saves a key that does not exist even with an etag, then checks the etag once it exists', async () => {
    const key = `${name}-redis-${randomUUID()}`;
    expect(await client.state.save('redis', [{ key, value: 'created', etag: '12345' }])).toEqual({});
    expect(await client.state.get('redis', key)).toBe('created');
    await expectConflict(() => client.state.save('redis', [{ key, value: 'stale', etag: '12345' }]), 'redis');
    expect(await client.state.get('redis', key)).toBe('created');
    await client.state.delete('redis', key);
  });
});
