/**
 * `@dapr/dapr` compatibility for bindings: a real `weft sidecar` process with a Redis output binding
 * and a cron input binding, a `DaprServer` HTTP app receiving the cron events through
 * `server.binding.receive`, and `client.binding.send` in HTTP and gRPC mode, checked with a raw
 * Redis client.
 */
import { randomUUID } from 'node:crypto';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import type { DaprServer } from '@dapr/dapr';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkServerApp } from './support/sdk-server-app.js';
import type { SdkServerApp } from './support/sdk-server-app.js';
import { CapturedLogs, PROTOCOLS, sdkClient } from './support/compat-env.js';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { eventually } from '../support/subscriber-app.js';
import type { WeftProcess } from '../support/weft-process.js';

const redisUp = await requireService(SERVICES.redis, '@dapr/dapr bindings compat');

const RESOURCES = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: cache}
spec:
  type: bindings.redis
  version: v1
  metadata:
  - {name: redisHost, value: "${REDIS_HOST}"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: tick}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - {name: schedule, value: "@every 1s"}
`;

let app: SdkServerApp | undefined;
let weft: WeftProcess;
let server: DaprServer;
let redis: Redis;
const ticks: unknown[] = [];
const keys: string[] = [];

beforeAll(async () => {
  if (!redisUp) return;
  app = await startSdkServerApp({ mode: 'http', appId: 'compat-bindings', resources: RESOURCES, logger: { level: 0, service: new CapturedLogs() } });
  ({ weft, server } = app);
  await server.binding.receive('tick', async (data: unknown) => {
    ticks.push(data);
  });
  await server.start();
  redis = new Redis(`redis://${REDIS_HOST}`);
}, 60_000);

afterAll(async () => {
  if (keys.length > 0) await redis?.del(...keys);
  redis?.disconnect();
  await app?.stop();
});

describe.runIf(redisUp)('@dapr/dapr bindings', () => {
  it('server.binding.receive gets the cron binding events repeatedly', async () => {
    await eventually(() => ticks.length >= 2, 20_000, 'two cron events at the DaprServer handler');
  });

  for (const { name, protocol } of PROTOCOLS) {
    it(`client.binding.send (${name}) creates and gets a Redis key through bindings.redis`, async () => {
      const client = sdkClient(weft, protocol, { logs: new CapturedLogs() });
      const key = `weft-compat-bind-${randomUUID()}`;
      keys.push(key);
      try {
        await client.binding.send('cache', 'create', { order: 42, by: name }, { key, ttlInSeconds: '120' });
        expect(JSON.parse((await redis.get(key)) ?? 'null')).toEqual({ order: 42, by: name });
        expect(await redis.ttl(key)).toBeGreaterThan(0);
        const got = (await client.binding.send('cache', 'get', undefined, { key })) as unknown;
        const data = protocol === CommunicationProtocolEnum.GRPC ? JSON.parse(Buffer.from((got as { data: Uint8Array }).data).toString()) : got;
        expect(data).toEqual({ order: 42, by: name });
      } finally {
        await client.stop();
      }
    });

    it(`client.binding.send (${name}) rejects for an unknown binding`, async () => {
      const client = sdkClient(weft, protocol, { logs: new CapturedLogs() });
      try {
        await expect(client.binding.send('no-such-binding', 'create', { a: 1 })).rejects.toThrow();
      } finally {
        await client.stop();
      }
    });
  }
});
