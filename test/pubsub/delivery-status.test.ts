/**
 * In-process tier: an app whose answer to a delivery carries a status daprd does not know (`success`
 * in lower case over HTTP, a number outside the enum over gRPC) gets the event again, as on Dapr, and
 * the sidecar's log says why. An app that works on Weft must work on Dapr.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Sidecar, resolveSidecarOptions } from '../../packages/runtime/src/index.js';
import type { Logger } from '../../packages/runtime/src/index.js';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';
import { eventually, startSubscriberApp } from '../support/subscriber-app.js';
import { freePort } from '../support/weft-process.js';

type Json = Record<string, unknown>;

/** A logger that keeps every warning. */
function capturingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => void warnings.push(message),
    error: () => undefined,
    child: () => logger,
    isLevelEnabled: () => true,
  };
  return logger;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startSidecar(pubsub: string, appPort: number, appProtocol: 'http' | 'grpc', warnings: string[]): Promise<Sidecar> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-status-'));
  const resources = path.join(dir, 'resources');
  await fs.mkdir(resources);
  await fs.writeFile(path.join(resources, 'ps.yaml'), `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${pubsub}}\nspec: {type: pubsub.in-memory, version: v1}\n`);
  const sidecar = await Sidecar.start(
    resolveSidecarOptions({
      appId: 'status-app',
      appPort,
      appProtocol,
      httpPort: 0,
      grpcPort: 0,
      metricsPort: -1,
      dataDir: path.join(dir, '.weft'),
      resourcesPaths: [resources],
      env: { WEFT_PUBSUB_RETRY_INTERVAL: '20ms', WEFT_PUBSUB_RETRY_MAX_INTERVAL: '50ms' },
    }),
    { logger: capturingLogger(warnings) },
  );
  cleanups.push(async () => {
    await sidecar.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });
  await eventually(async () => {
    const meta = (await (await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length > 0;
  }, 10_000, 'the subscription');
  return sidecar;
}

const publish = (sidecar: Sidecar, pubsub: string, body: unknown) =>
  fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/publish/${pubsub}/orders`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('a delivery answered with a status daprd does not know', () => {
  it('is redelivered to an HTTP app that answered {"status":"success"}, with a warning naming the status', async () => {
    // The in-memory bus is per component name per process: each test has its own.
    const app = await startSubscriberApp([{ pubsubname: 'status-http', topic: 'orders', route: '/orders' }], await freePort());
    cleanups.push(() => app.close());
    app.reply((d) => ({ json: { status: app.at(d.path).length === 1 ? 'success' : 'SUCCESS' } }));
    const warnings: string[] = [];
    const sidecar = await startSidecar('status-http', app.port, 'http', warnings);
    expect((await publish(sidecar, 'status-http', { n: 1 })).status).toBe(204);
    await app.waitFor((d) => d.length === 2);
    expect(app.deliveries.map((d) => (d.body as { data: unknown }).data)).toEqual([{ n: 1 }, { n: 1 }]);
    const warning = warnings.find((w) => w.includes('unknown status "success"'));
    expect(warning).toContain('retrying it, as Dapr does');
    expect(warning).toContain('"SUCCESS", "RETRY", "DROP" or empty');
  });

  it('is redelivered to a gRPC app that answered a status outside the enum, with a warning naming it', async () => {
    const v1 = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, { service: grpc.ServiceDefinition }> } } } }).dapr.proto.runtime.v1;
    const server = new grpc.Server();
    const received: Json[] = [];
    server.addService(v1['AppCallback']!.service, {
      ListTopicSubscriptions: (_call: grpc.ServerUnaryCall<Json, Json>, callback: grpc.sendUnaryData<Json>) =>
        callback(null, { subscriptions: [{ pubsub_name: 'status-grpc', topic: 'orders', routes: { default: '/orders' } }] }),
      OnTopicEvent: (call: grpc.ServerUnaryCall<Json, Json>, callback: grpc.sendUnaryData<Json>) => {
        received.push(call.request);
        callback(null, { status: received.length === 1 ? 7 : 'SUCCESS' });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    const warnings: string[] = [];
    const sidecar = await startSidecar('status-grpc', port, 'grpc', warnings);
    expect((await publish(sidecar, 'status-grpc', { n: 2 })).status).toBe(204);
    await eventually(() => received.length === 2, 10_000, 'a redelivery');
    expect(received.map((r) => Buffer.from(r['data'] as Buffer).toString())).toEqual(['{"n":2}', '{"n":2}']);
    expect(warnings.some((w) => w.includes('unknown status "7"') && w.includes('retrying it, as Dapr does'))).toBe(true);
  });
});
