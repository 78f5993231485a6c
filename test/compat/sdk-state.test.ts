/**
 * The official `DaprClient` (HTTP and gRPC) against a real `weft sidecar` process: the state API as
 * an app sees it through the SDK, including what the SDK returns on failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum, StateConcurrencyEnum, StateConsistencyEnum } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import { CapturedLogs, PROTOCOLS, STORES, eventually, sdkClient, startCompatSidecar, uniquePrefix } from './support/compat-env.js';
import type { CompatSidecar } from './support/compat-env.js';
import { sdkGrpcError, sdkHttpError, thrownBy } from './support/sdk-errors.js';

const GRPC_ABORTED = 10;
const GRPC_INVALID_ARGUMENT = 3;

let sidecar: CompatSidecar;

beforeAll(async () => {
  sidecar = await startCompatSidecar({ appId: 'compat-state' });
});

afterAll(async () => {
  await sidecar?.close();
});

/** The etag of one key, read the only way the SDK exposes it (bulk get). */
async function etagOf(client: DaprClient, key: string): Promise<string> {
  const [entry] = await client.state.getBulk(STORES.state, [key]);
  const etag = (entry as { etag?: string } | undefined)?.etag;
  if (!etag) throw new Error(`no etag for ${key}`);
  return etag;
}

describe.each(PROTOCOLS)('DaprClient state API over $name', ({ name, protocol }) => {
  const grpc = protocol === CommunicationProtocolEnum.GRPC;
  const logs = new CapturedLogs();
  let client: DaprClient;
  let p: string;

  beforeAll(async () => {
    client = sdkClient(sidecar.weft, protocol, { logs });
    await client.start();
  });

  afterAll(async () => {
    await client?.stop();
  });

  it('saves objects, strings and numbers and reads each back as stored', async () => {
    p = uniquePrefix(name);
    expect(await client.state.save(STORES.state, [
      { key: `${p}obj`, value: { n: 1, tags: ['a'] } },
      { key: `${p}str`, value: 'plain text' },
      { key: `${p}num`, value: 42 },
    ])).toEqual({});
    expect(await client.state.get(STORES.state, `${p}obj`)).toEqual({ n: 1, tags: ['a'] });
    expect(await client.state.get(STORES.state, `${p}str`)).toBe('plain text');
    expect(await client.state.get(STORES.state, `${p}num`)).toBe(42);
  });

  it('returns an empty string for a key that was never saved', async () => {
    expect(await client.state.get(STORES.state, `${uniquePrefix(name)}missing`)).toBe('');
  });

  it('reads several keys at once, with etags, and marks missing keys by their missing data', async () => {
    const q = uniquePrefix(name);
    await client.state.save(STORES.state, [{ key: `${q}a`, value: { a: 1 } }, { key: `${q}b`, value: 'bee' }]);
    const items = await client.state.getBulk(STORES.state, [`${q}a`, `${q}b`, `${q}none`]);
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ key: `${q}a`, data: { a: 1 }, etag: expect.stringMatching(/.+/) });
    expect(items[1]).toMatchObject({ key: `${q}b`, data: 'bee', etag: expect.stringMatching(/.+/) });
    // HTTP leaves `data` out for a missing key; the gRPC client turns the empty bytes into "".
    expect(items[2]).toEqual(grpc ? { key: `${q}none`, data: '', etag: '' } : { key: `${q}none` });
  });

  it('deletes a key so that a later get returns an empty string', async () => {
    const key = `${uniquePrefix(name)}gone`;
    await client.state.save(STORES.state, [{ key, value: 'x' }]);
    expect(await client.state.delete(STORES.state, key)).toEqual({});
    expect(await client.state.get(STORES.state, key)).toBe('');
  });

  it('applies a transaction of an upsert and a delete atomically and resolves with undefined', async () => {
    const q = uniquePrefix(name);
    await client.state.save(STORES.state, [{ key: `${q}old`, value: 'old' }]);
    const result = await client.state.transaction(STORES.state, [
      // A string value: the SDK's gRPC transaction does `Buffer.from(value)` and throws on objects.
      { operation: 'upsert', request: { key: `${q}new`, value: 'fresh' } },
      { operation: 'delete', request: { key: `${q}old` } },
    ]);
    expect(result).toBeUndefined();
    expect(await client.state.get(STORES.state, `${q}new`)).toBe('fresh');
    expect(await client.state.get(STORES.state, `${q}old`)).toBe('');
  });

  it('refuses a save with a stale etag and keeps the newer value', async () => {
    const key = `${uniquePrefix(name)}etag`;
    await client.state.save(STORES.state, [{ key, value: 'v1' }]);
    const stale = await etagOf(client, key);
    await client.state.save(STORES.state, [{ key, value: 'v2' }]);
    const current = await etagOf(client, key);
    expect(current).not.toBe(stale);

    const stalePut = () =>
      client.state.save(STORES.state, [{ key, value: 'v3', etag: stale, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE, consistency: StateConsistencyEnum.CONSISTENCY_STRONG } }]);
    if (grpc) {
      const err = sdkGrpcError(await thrownBy(stalePut));
      expect(err.code).toBe(GRPC_ABORTED);
      expect(err.rawMessage).toContain(`failed saving state in state store ${STORES.state}`);
    } else {
      // The HTTP client does not throw here: it resolves with {error}.
      const result = (await stalePut()) as { error?: unknown };
      const err = sdkHttpError(result.error);
      expect(err.status).toBe(409);
      expect(err.body?.errorCode).toBe('ERR_STATE_SAVE');
      expect(logs.lines.some((l) => l.startsWith('error ') && l.includes('Error saving state'))).toBe(true);
    }
    expect(await client.state.get(STORES.state, key)).toBe('v2');

    expect(await client.state.save(STORES.state, [{ key, value: 'v3', etag: current }])).toEqual({});
    expect(await client.state.get(STORES.state, key)).toBe('v3');
  });

  it('deletes with the current etag only', async () => {
    const key = `${uniquePrefix(name)}etag-del`;
    await client.state.save(STORES.state, [{ key, value: 'one' }]);
    const stale = await etagOf(client, key);
    await client.state.save(STORES.state, [{ key, value: 'two' }]);
    const staleDelete = () => client.state.delete(STORES.state, key, { etag: stale });
    if (grpc) {
      expect(sdkGrpcError(await thrownBy(staleDelete)).code).toBe(GRPC_ABORTED);
    } else {
      const result = (await staleDelete()) as { error?: unknown };
      const err = sdkHttpError(result.error);
      expect(err.status).toBe(409);
      expect(err.body?.errorCode).toBe('ERR_STATE_DELETE');
    }
    expect(await client.state.get(STORES.state, key)).toBe('two');
    expect(await client.state.delete(STORES.state, key, { etag: await etagOf(client, key) })).toEqual({});
    expect(await client.state.get(STORES.state, key)).toBe('');
  });

  it('expires a value saved with ttlInSeconds metadata', async () => {
    const key = `${uniquePrefix(name)}ttl`;
    const kept = `${key}-kept`;
    await client.state.save(STORES.state, [
      { key, value: 'short-lived', metadata: { ttlInSeconds: '1' } },
      { key: kept, value: 'kept' },
    ]);
    expect(await client.state.get(STORES.state, key)).toBe('short-lived');
    expect(await eventually(async () => (await client.state.get(STORES.state, key)) === '', 5000)).toBe(true);
    expect(await client.state.get(STORES.state, kept)).toBe('kept');
  });

  it('queries values by a field and answers an empty result with no results', async () => {
    const owner = uniquePrefix(name);
    await client.state.save(STORES.state, [1, 2, 3].map((n) => ({ key: `${owner}q${n}`, value: { owner, n } })));
    await client.state.save(STORES.state, [{ key: `${owner}other`, value: { owner: `${owner}x`, n: 9 } }]);
    const reply = await client.state.query(STORES.state, {
      filter: { EQ: { owner } },
      sort: [{ key: 'n', order: 'DESC' }],
    } as never);
    // HTTP hands back the parsed JSON; the gRPC client leaves `data` as the raw bytes.
    const data = reply.results.map((r) => (grpc ? JSON.parse(Buffer.from(r.data as Uint8Array).toString('utf8')) : r.data));
    expect(reply.results.map((r) => r.key)).toEqual([`${owner}q3`, `${owner}q2`, `${owner}q1`]);
    expect(data).toEqual([3, 2, 1].map((n) => ({ owner, n })));
    expect(reply.results.every((r) => typeof r.etag === 'string' && r.etag !== '')).toBe(true);

    const empty = await client.state.query(STORES.state, { filter: { EQ: { owner: `${owner}nobody` } } } as never);
    // The HTTP client maps the 204 to {results: []}; the gRPC client adds the (empty) token.
    expect(empty).toEqual(grpc ? { results: [], token: '' } : { results: [] });
  });

  it('reports an unknown store as invalid with the DAPR_STATE_NOT_FOUND reason', async () => {
    const err = await thrownBy(() => client.state.get('no-such-store', 'k'));
    if (grpc) {
      const g = sdkGrpcError(err);
      expect(g.code).toBe(GRPC_INVALID_ARGUMENT);
      expect(g.rawMessage).toBe('state store no-such-store is not found');
      expect(g.errorInfos).toEqual([{ reason: 'DAPR_STATE_NOT_FOUND', domain: 'dapr.io', metadata: { appID: sidecar.appId } }]);
    } else {
      const h = sdkHttpError(err);
      expect(h.status).toBe(400);
      expect(h.body).toEqual({
        errorCode: 'ERR_STATE_STORE_NOT_FOUND',
        message: 'state store no-such-store is not found',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            domain: 'dapr.io',
            reason: 'DAPR_STATE_NOT_FOUND',
            metadata: { appID: sidecar.appId },
          },
        ],
      });
    }
  });
});
