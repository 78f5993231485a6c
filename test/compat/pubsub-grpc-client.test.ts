/**
 * `@dapr/dapr` compatibility, gRPC client: `DaprClient` over gRPC publishes (`PublishEvent`,
 * `BulkPublishEventAlpha1`) to a real `weft sidecar` process, and an HTTP subscriber app receives.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

let dir: string;
let weft: WeftProcess;
let app: SubscriberApp;
let client: DaprClient;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-compat-grpc-pub-'));
  app = await startSubscriberApp([
    { pubsubname: 'pubsub', topic: 'single', route: '/single' },
    { pubsubname: 'pubsub', topic: 'many', route: '/many' },
  ]);
  weft = await startWeftSidecar(['--app-id', 'grpc-pub', '--app-port', String(app.port), '--log-level', 'warn'], { cwd: dir });
  client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(weft.grpcPort), communicationProtocol: CommunicationProtocolEnum.GRPC });
  await client.start();
}, 60_000);

afterAll(async () => {
  await client?.stop().catch(() => undefined);
  await weft?.stop();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('@dapr/dapr DaprClient pub/sub over gRPC', () => {
  it('publishes one event with PublishEvent', async () => {
    const res = await client.pubsub.publish('pubsub', 'single', { hello: 'grpc' });
    expect(res.error).toBeUndefined();
    await app.waitFor((d) => d.some((x) => x.path === '/single'));
    expect(app.at('/single')[0]!.body).toMatchObject({ data: { hello: 'grpc' }, source: 'grpc-pub', topic: 'single' });
  });

  it('publishes many events with BulkPublishEventAlpha1', async () => {
    const res = await client.pubsub.publishBulk('pubsub', 'many', [{ n: 1 }, { n: 2 }, 'three']);
    expect(res.failedMessages).toEqual([]);
    await app.waitFor((d) => d.filter((x) => x.path === '/many').length === 3);
    expect(app.at('/many').map((d) => (d.body as { data: unknown }).data)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, 'three']));
  });

  it('fails with INVALID_ARGUMENT "pubsub nope is not found" for an unknown pubsub', async () => {
    // The gRPC client throws `{ error }` (the HTTP client returns it).
    const thrown = (await client.pubsub.publish('nope', 'single', { x: 1 }).catch((e: unknown) => e)) as { error?: Error };
    expect(thrown.error?.message).toBe('[invalid_argument] pubsub nope is not found');
  });
});
