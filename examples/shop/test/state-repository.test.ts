/** How the repository reads the SDK's answers: ETags, 409 conflicts, per-key errors, network failures. */
import type { DaprClient } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { StateRepository, StateStoreUnavailableError } from '../src/shared/state-repository.js';

/** The SDK's error for an HTTP answer, as its HTTP client builds it. */
const sidecarError = (status: number, body: string) => new Error(JSON.stringify({ error: 'x', error_msg: body, status }));

function fakeClient(state: { getBulk?: () => Promise<unknown>; save?: () => Promise<{ error?: unknown }>; delete?: () => Promise<{ error?: unknown }> }): DaprClient {
  return { state } as unknown as DaprClient;
}

describe('StateRepository', () => {
  it('reads the value and ETag of a key, and undefined for a missing key', async () => {
    const repo = new StateRepository<{ n: number }>(fakeClient({ getBulk: () => Promise.resolve([{ key: '1', data: { n: 1 }, etag: '7' }]) }), 'store');
    expect(await repo.read('1')).toEqual({ value: { n: 1 }, etag: '7' });
    const empty = new StateRepository(fakeClient({ getBulk: () => Promise.resolve([{ key: '1' }]) }), 'store');
    expect(await empty.read('1')).toBeUndefined();
  });

  it('turns a per-key error of a bulk read, a sidecar error and a network failure into StateStoreUnavailableError', async () => {
    const perKey = new StateRepository(fakeClient({ getBulk: () => Promise.resolve([{ key: '1', error: 'connection refused' }]) }), 'store');
    await expect(perKey.read('1')).rejects.toBeInstanceOf(StateStoreUnavailableError);
    const sidecar = new StateRepository(fakeClient({ getBulk: () => Promise.reject(sidecarError(400, '{"errorCode":"ERR_STATE_STORE_NOT_FOUND"}')) }), 'store');
    await expect(sidecar.read('1')).rejects.toThrow('ERR_STATE_STORE_NOT_FOUND');
    const network = new StateRepository(fakeClient({ getBulk: () => Promise.reject(new TypeError('fetch failed')) }), 'store');
    await expect(network.read('1')).rejects.toBeInstanceOf(StateStoreUnavailableError);
  });

  it('reports a 409 from a conditional write as a conflict, and any other failure as unavailable', async () => {
    const conflict = new StateRepository(fakeClient({ save: () => Promise.resolve({ error: sidecarError(409, '{"errorCode":"ERR_STATE_SAVE"}') }) }), 'store');
    expect(await conflict.insert('1', {})).toBe('conflict');
    expect(await conflict.replace('1', {}, '3')).toBe('conflict');
    const written = new StateRepository(fakeClient({ save: () => Promise.resolve({}), delete: () => Promise.resolve({}) }), 'store');
    expect(await written.insert('1', {})).toBe('written');
    expect(await written.remove('1')).toBe('written');
    const down = new StateRepository(fakeClient({ save: () => Promise.resolve({ error: sidecarError(500, 'ECONNREFUSED') }) }), 'store');
    await expect(down.upsert('1', {})).rejects.toBeInstanceOf(StateStoreUnavailableError);
  });
});
