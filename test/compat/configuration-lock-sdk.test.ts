/**
 * The official `DaprClient` (HTTP and gRPC) against a real `weft sidecar` process for the
 * configuration and distributed lock APIs, on the embedded SQLite drivers. The test writes
 * configuration items into the SQLite file itself, as another process (an operator's tool) would.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { CapturedLogs, PROTOCOLS, removeDir, sdkClient, tempDir, uniquePrefix } from './support/compat-env.js';
import { sdkGrpcError, sdkHttpError, thrownBy } from './support/sdk-errors.js';

const CONFIG = 'configstore';
/** `LockStatus` of `@dapr/dapr/types/lock/UnlockResponse` (not exported from the package root). */
const LockStatus = { Success: 0, LockDoesNotExist: 1, LockBelongsToOthers: 2 } as const;
const LOCK = 'lockstore';

let dir: string;
let weft: WeftProcess;
let app: RecordingApp;
let db: Database.Database;

function setItem(key: string, value: string, version: string): void {
  db.prepare(
    'INSERT INTO configuration (key, value, version) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = excluded.version',
  ).run(key, value, version);
}

/** Polls every 50 ms until `check` holds (subscriptions deliver asynchronously). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = await tempDir('cfglock');
  const resources = path.join(dir, 'resources');
  await fs.mkdir(resources);
  const file = path.join(dir, 'config.sqlite');
  await fs.writeFile(
    path.join(resources, 'components.yaml'),
    [
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${CONFIG}\nspec:\n  type: configuration.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n    value: ${file}\n  - name: pollInterval\n    value: 50ms\n`,
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${LOCK}\nspec:\n  type: lock.sqlite\n  version: v1\n  metadata:\n  - name: connectionString\n    value: ${path.join(dir, 'locks.sqlite')}\n`,
    ].join('---\n'),
  );
  app = await startRecordingApp({});
  weft = await startWeftSidecar(['--app-id', 'compat-cfglock', '--resources-path', resources, '--app-port', String(app.port)], {
    cwd: dir,
    env: { WEFT_REGISTRY_DIR: path.join(dir, 'registry') },
  });
  // The sidecar created the table; this connection writes items as an operator's tool would.
  db = new Database(file, { timeout: 2000 });
});

afterAll(async () => {
  db?.close();
  await weft?.stop();
  await app?.close();
  if (dir) await removeDir(dir);
});

describe.each(PROTOCOLS)('DaprClient lock API over $name', ({ name, protocol }) => {
  const grpc = protocol === CommunicationProtocolEnum.GRPC;
  let client: DaprClient;

  beforeAll(async () => {
    client = sdkClient(weft, protocol, { logs: new CapturedLogs() });
    await client.start();
  });
  afterAll(async () => {
    await client?.stop();
  });

  it('takes a free lock, refuses it to another owner, and reports each unlock status', async () => {
    const resource = uniquePrefix(name);
    expect(await client.lock.lock(LOCK, resource, 'owner-a', 30)).toEqual({ success: true });
    expect(await client.lock.lock(LOCK, resource, 'owner-b', 30)).toEqual({ success: false });
    expect(await client.lock.unlock(LOCK, resource, 'owner-b')).toEqual({ status: LockStatus.LockBelongsToOthers });
    expect(await client.lock.unlock(LOCK, resource, 'owner-a')).toEqual({ status: LockStatus.Success });
    expect(await client.lock.unlock(LOCK, resource, 'owner-a')).toEqual({ status: LockStatus.LockDoesNotExist });
    expect(await client.lock.lock(LOCK, resource, 'owner-b', 30)).toEqual({ success: true });
  });

  it('rejects a non-positive expiry and an unknown store with Dapr’s errors', async () => {
    const resource = uniquePrefix(name);
    const expiry = await thrownBy(() => client.lock.lock(LOCK, resource, 'owner', 0));
    const unknown = await thrownBy(() => client.lock.lock('nosuchstore', resource, 'owner', 10));
    if (grpc) {
      expect(sdkGrpcError(expiry)).toMatchObject({ code: 3, rawMessage: `ExpiryInSeconds is not positive in lock store ${LOCK}` });
      expect(sdkGrpcError(unknown)).toMatchObject({ code: 3, rawMessage: 'lock store nosuchstore not found' });
    } else {
      expect(sdkHttpError(expiry)).toMatchObject({ status: 400, body: { errorCode: 'ERR_MALFORMED_REQUEST' } });
      expect(sdkHttpError(unknown)).toMatchObject({ status: 400, body: { errorCode: 'ERR_LOCK_STORE_NOT_FOUND', message: 'lock store nosuchstore not found' } });
    }
  });
});

describe('DaprClient configuration API over gRPC', () => {
  let client: DaprClient;

  beforeAll(async () => {
    client = sdkClient(weft, CommunicationProtocolEnum.GRPC, { logs: new CapturedLogs() });
    await client.start();
  });
  afterAll(async () => {
    await client?.stop();
  });

  it('gets items by key with their value and version, leaving out missing keys', async () => {
    const p = uniquePrefix('get');
    setItem(`${p}a`, 'alpha', '1');
    setItem(`${p}b`, 'beta', '2');
    const got = await client.configuration.get(CONFIG, [`${p}a`, `${p}b`, `${p}missing`]);
    expect(got.items).toEqual({
      [`${p}a`]: { key: `${p}a`, value: 'alpha', version: '1', metadata: {} },
      [`${p}b`]: { key: `${p}b`, value: 'beta', version: '2', metadata: {} },
    });
  });

  it('subscribes: the callback gets the current values at once, then each change, and nothing after stop()', async () => {
    const p = uniquePrefix('sub');
    setItem(`${p}k`, 'first', '1');
    const seen: Record<string, { value: string; version: string }>[] = [];
    const sub = await client.configuration.subscribeWithKeys(CONFIG, [`${p}k`], async (res) => {
      seen.push(Object.fromEntries(Object.entries(res.items).map(([k, v]) => [k, { value: v.value, version: v.version }])));
    });
    await until(() => seen.length >= 1, 'the current values');
    expect(seen[0]).toEqual({ [`${p}k`]: { value: 'first', version: '1' } });
    setItem(`${p}k`, 'second', '2');
    await until(() => seen.length >= 2, 'the change');
    expect(seen[1]).toEqual({ [`${p}k`]: { value: 'second', version: '2' } });
    await sub.stop();

    // A second subscription sees the next change; by then the stopped one would have seen it too.
    const witness: string[] = [];
    const other = await client.configuration.subscribeWithKeys(CONFIG, [`${p}k`], async (res) => {
      witness.push(res.items[`${p}k`]?.value ?? '');
    });
    await until(() => witness.length >= 1, 'the witness subscription');
    setItem(`${p}k`, 'third', '3');
    await until(() => witness.includes('third'), 'the witness to see the change');
    await other.stop();
    expect(seen).toHaveLength(2);
  });

  it('streams the id first with no items, then the current values; UnsubscribeConfiguration ends that stream and answers ok: false for an unknown id', async () => {
    const p = uniquePrefix('raw');
    setItem(`${p}k`, 'v', '1');
    const pkg = loadDaprRuntimePackage() as unknown as {
      dapr: { proto: { runtime: { v1: { Dapr: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, (...args: unknown[]) => unknown> } } } };
    };
    const raw = new pkg.dapr.proto.runtime.v1.Dapr(`127.0.0.1:${weft.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const messages: { id: string; items: Record<string, { value: string; version: string }> }[] = [];
      const stream = raw['SubscribeConfiguration']!({ store_name: CONFIG, keys: [`${p}k`] }) as grpc.ClientReadableStream<(typeof messages)[number]>;
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      stream.on('data', (m: (typeof messages)[number]) => messages.push(m));
      await until(() => messages.length >= 2, 'the id and the current values');
      const id = messages[0]!.id;
      expect(messages[0]).toMatchObject({ id, items: {} });
      expect(messages[1]).toMatchObject({ id, items: { [`${p}k`]: { value: 'v', version: '1' } } });
      const unsubscribe = (subscriptionId: string) =>
        new Promise<unknown>((resolve, reject) =>
          raw['UnsubscribeConfiguration']!({ store_name: CONFIG, id: subscriptionId }, (err: Error | null, reply: unknown) => (err ? reject(err) : resolve(reply))),
        );
      expect(await unsubscribe(id)).toMatchObject({ ok: true });
      await ended;
      expect(await unsubscribe(id)).toEqual({ ok: false, message: `failed to unsubscribe to configuration request ${id}: subscription does not exist` });
    } finally {
      raw.close();
    }
  });
});

describe('configuration API over HTTP', () => {
  it('the SDK’s HTTP client does not offer configuration (it throws HTTPNotSupportedError), as with daprd', async () => {
    const client = sdkClient(weft, CommunicationProtocolEnum.HTTP, { logs: new CapturedLogs() });
    const err = await thrownBy(() => client.configuration.get(CONFIG, ['x']));
    expect((err as Error).name).toBe('HTTPNotSupportedError');
  });

  it('GET answers the items map (204 when none); subscribe POSTs the current values and each change to the app until unsubscribed', async () => {
    const p = uniquePrefix('http');
    setItem(`${p}k`, 'one', '1');
    const base = `http://127.0.0.1:${weft.httpPort}`;
    const get = await fetch(`${base}/v1.0/configuration/${CONFIG}?key=${p}k`);
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ [`${p}k`]: { value: 'one', version: '1' } });
    expect((await fetch(`${base}/v1.0-alpha1/configuration/${CONFIG}?key=${p}none`)).status).toBe(204);

    const sub = await fetch(`${base}/v1.0/configuration/${CONFIG}/subscribe?key=${p}k`);
    expect(sub.status).toBe(200);
    const { id } = (await sub.json()) as { id: string };
    const callbacks = () => app.received('POST', `/configuration/${CONFIG}/${p}k`);
    await until(() => callbacks().length >= 1, 'the current values');
    setItem(`${p}k`, 'two', '2');
    await until(() => callbacks().length >= 2, 'the change');
    expect(callbacks().map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { id, items: { [`${p}k`]: { value: 'one', version: '1' } } },
      { id, items: { [`${p}k`]: { value: 'two', version: '2' } } },
    ]);
    expect(callbacks()[0]?.headers['content-type']).toBe('application/json');
    expect(await (await fetch(`${base}/v1.0/configuration/${CONFIG}/${id}/unsubscribe`)).json()).toEqual({ ok: true });
  });
});
