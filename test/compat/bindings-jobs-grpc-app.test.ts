/**
 * `@dapr/dapr` compatibility with a gRPC app: a real `weft sidecar --app-protocol grpc` process and a
 * `DaprServer` in gRPC mode. The cron input binding reaches `server.binding.receive` through
 * `ListInputBindings`/`OnBindingEvent`, and a job reaches the app's `OnJobEventAlpha1` (the SDK
 * acknowledges it without a handler, so the test checks the trigger was accepted: with retries
 * unlimited, a refused trigger would keep the job alive).
 */
import type { DaprServer } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkServerApp } from './support/sdk-server-app.js';
import type { SdkServerApp } from './support/sdk-server-app.js';
import { CapturedLogs } from './support/compat-env.js';
import { eventually } from '../support/subscriber-app.js';
import type { WeftProcess } from '../support/weft-process.js';

const RESOURCES = `apiVersion: dapr.io/v1alpha1
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
const ticks: unknown[] = [];

beforeAll(async () => {
  app = await startSdkServerApp({ mode: 'grpc', appId: 'compat-grpc-app', resources: RESOURCES, logger: { level: 0, service: new CapturedLogs() } });
  ({ weft, server } = app);
  await server.binding.receive('tick', async (data: unknown) => {
    ticks.push(data);
  });
  await server.start();
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('@dapr/dapr gRPC app', () => {
  it('receives cron binding events through OnBindingEvent repeatedly', async () => {
    await eventually(() => ticks.length >= 2, 20_000, 'two cron events at the gRPC DaprServer');
  });

  it('accepts job triggers through OnJobEventAlpha1', async () => {
    const base = `http://127.0.0.1:${weft.httpPort}/v1.0-alpha1/jobs/grpc-trigger`;
    const res = await fetch(base, {
      method: 'POST',
      body: JSON.stringify({ dueTime: '0s', data: { x: 1 }, failurePolicy: { constant: { interval: '0.2s' } } }),
    });
    expect(res.status).toBe(204);
    await eventually(async () => (await fetch(base)).status === 500, 15_000, 'one-shot job accepted and removed');
  });
});
