/**
 * The lock API's edges through an in-process sidecar over HTTP and gRPC: daprd's validation order and
 * error codes, body decoding as protojson does it, key prefixes, and a bad `keyPrefix` at start-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import type { DaprGrpcClient } from '../support/grpc-client.js';

const lockYaml = (name: string, extra = '') => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: lock.in-memory
  version: v1
  metadata: [${extra}]
`;

async function post(base: string, path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('lock API with a lock store', () => {
  let side: TestSidecar;
  let grpc: DaprGrpcClient;

  beforeAll(async () => {
    side = await startTestSidecar({ appId: 'locker', resources: [lockYaml('locks'), lockYaml('named', '{name: keyPrefix, value: name}')] });
    grpc = daprGrpcClient(side.sidecar.grpcPort);
  });
  afterAll(async () => {
    grpc?.close();
    await side?.stop();
  });

  it('lists the lock stores in the metadata API', async () => {
    const meta = (await (await fetch(`${side.baseUrl}/v1.0/metadata`)).json()) as { components: { name: string; type: string; version: string }[] };
    expect(meta.components).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'locks', type: 'lock.in-memory', version: 'v1' }), expect.objectContaining({ name: 'named', type: 'lock.in-memory' })]),
    );
  });

  it('answers {"success": false} with the field present when the lock is held', async () => {
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resourceId":"r1","lockOwner":"a","expiryInSeconds":10}')).toEqual({ status: 200, json: { success: true } });
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resourceId":"r1","lockOwner":"b","expiryInSeconds":10}')).toEqual({ status: 200, json: { success: false } });
  });

  it('reads the proto field names and a decimal-string expiry as protojson does, and ignores unknown fields', async () => {
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resource_id":"r2","lock_owner":"a","expiry_in_seconds":"10","extra":1}')).toEqual({ status: 200, json: { success: true } });
    expect(await post(side.baseUrl, '/v1.0-alpha1/unlock/locks', '{"resourceId":"r2","lockOwner":"a"}')).toEqual({ status: 200, json: { status: 0 } });
  });

  it.each([
    ['a missing expiry', '{"resourceId":"r","lockOwner":"a"}', 'ExpiryInSeconds is not positive in lock store locks'],
    ['a negative expiry', '{"resourceId":"r","lockOwner":"a","expiryInSeconds":-1}', 'ExpiryInSeconds is not positive in lock store locks'],
    ['an empty resource id', '{"lockOwner":"a","expiryInSeconds":5}', 'ResourceId is empty in lock store locks'],
    ['an empty owner', '{"resourceId":"r","expiryInSeconds":5}', 'LockOwner is empty in lock store locks'],
  ])('answers 400 ERR_MALFORMED_REQUEST for %s', async (_what, body, message) => {
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/locks', body)).toEqual({ status: 400, json: { errorCode: 'ERR_MALFORMED_REQUEST', message } });
  });

  it('answers 400 ERR_MALFORMED_REQUEST for a body that is not JSON or has a wrongly typed field', async () => {
    expect((await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{nope')).json).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
    expect((await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resourceId":1,"lockOwner":"a","expiryInSeconds":5}')).json).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
    expect((await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resourceId":"r","lockOwner":"a","expiryInSeconds":1.5}')).json).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
  });

  it('answers 400 ERR_LOCK_STORE_NOT_FOUND for an unknown store, after the input checks', async () => {
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/nope', '{"resourceId":"r","lockOwner":"a","expiryInSeconds":5}')).toEqual({
      status: 400,
      json: { errorCode: 'ERR_LOCK_STORE_NOT_FOUND', message: 'lock store nope not found' },
    });
    expect((await post(side.baseUrl, '/v1.0-alpha1/unlock/nope', '{"lockOwner":"a"}')).json).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' });
  });

  it("answers 500 ERR_TRY_LOCK and ERR_UNLOCK for a resource id containing Dapr's key separator", async () => {
    expect(await post(side.baseUrl, '/v1.0-alpha1/lock/locks', '{"resourceId":"a||b","lockOwner":"a","expiryInSeconds":5}')).toEqual({
      status: 500,
      json: { errorCode: 'ERR_TRY_LOCK', message: "failed to try acquiring lock: input key/keyPrefix 'a||b' can't contain '||'" },
    });
    expect((await post(side.baseUrl, '/v1.0-alpha1/unlock/locks', '{"resourceId":"a||b","lockOwner":"a"}')).json).toMatchObject({ errorCode: 'ERR_UNLOCK' });
  });

  it('over gRPC: TryLockAlpha1 and UnlockAlpha1 answer success and numeric statuses, and bad input is INVALID_ARGUMENT with the same code', async () => {
    const take = await grpc.call('TryLockAlpha1', { store_name: 'named', resource_id: 'g1', lock_owner: 'a', expiry_in_seconds: 10 });
    expect(take.reply).toEqual({ success: true });
    expect((await grpc.call('UnlockAlpha1', { store_name: 'named', resource_id: 'g1', lock_owner: 'b' })).reply).toEqual({ status: 'LOCK_BELONGS_TO_OTHERS' });
    expect((await grpc.call('UnlockAlpha1', { store_name: 'named', resource_id: 'g1', lock_owner: 'a' })).reply).toEqual({ status: 'SUCCESS' });
    expect((await grpc.call('UnlockAlpha1', { store_name: 'named', resource_id: 'g1', lock_owner: 'a' })).reply).toEqual({ status: 'LOCK_DOES_NOT_EXIST' });
    const bad = await grpc.call('TryLockAlpha1', { store_name: 'named', resource_id: 'g1', lock_owner: 'a', expiry_in_seconds: 0 });
    expect(bad.error?.code).toBe(3);
    expect(bad.error?.metadata.get('dapr-error-code')).toEqual(['ERR_MALFORMED_REQUEST']);
    const unknown = await grpc.call('TryLockAlpha1', { store_name: 'nope', resource_id: 'g1', lock_owner: 'a', expiry_in_seconds: 5 });
    expect(unknown.error?.code).toBe(3);
    expect(unknown.error?.metadata.get('dapr-error-code')).toEqual(['ERR_LOCK_STORE_NOT_FOUND']);
  });
});

describe('lock API without a lock store', () => {
  it('answers 500 ERR_LOCK_STORE_NOT_CONFIGURED over HTTP and FAILED_PRECONDITION over gRPC', async () => {
    const side = await startTestSidecar({ resources: [] });
    const grpc = daprGrpcClient(side.sidecar.grpcPort);
    try {
      expect(await post(side.baseUrl, '/v1.0-alpha1/unlock/any', '{"resourceId":"r","lockOwner":"a"}')).toEqual({
        status: 500,
        json: { errorCode: 'ERR_LOCK_STORE_NOT_CONFIGURED', message: 'lock store is not configured' },
      });
      const res = await grpc.call('TryLockAlpha1', { store_name: 'any', resource_id: 'r', lock_owner: 'a', expiry_in_seconds: 5 });
      expect(res.error?.code).toBe(9);
    } finally {
      grpc.close();
      await side.stop();
    }
  });

  it("refuses to start when a lock store's keyPrefix contains the separator, naming the field", async () => {
    await expect(startTestSidecar({ resources: [lockYaml('bad', '{name: keyPrefix, value: "a||b"}')] })).rejects.toThrow(/keyPrefix.*can't contain '\|\|'/);
  });
});
