/**
 * Resiliency on service invocation, caller side: a caller sidecar with app-target policies invokes
 * real apps behind their own sidecars that fail N times then succeed, fail with chosen statuses, or
 * hang; retries (with `matching`), timeouts and a circuit breaker act on those real faults.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { freePort } from '../support/weft-process.js';
import { daprGrpcClient } from '../support/grpc-client.js';

/** An app whose answers are scripted per path: a queue of statuses, then 200. */
interface FaultyApp {
  port: number;
  /** Statuses to answer, in order, before answering 200. */
  script: Map<string, number[]>;
  calls: Map<string, number>;
  close(): Promise<void>;
}

async function startFaultyApp(): Promise<FaultyApp> {
  const script = new Map<string, number[]>();
  const calls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    calls.set(url, (calls.get(url) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url.startsWith('/hang')) return; // never answers (also /hang-grpc)
      const status = script.get(url)?.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? `ok:${Buffer.concat(chunks).toString()}` : `failed with ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    script,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('resiliency policies on service invocation (caller side)', () => {
  const id = `invres${process.pid}`;
  const [RETRIED, MATCHED, BROKEN] = [`${id}-retried`, `${id}-matched`, `${id}-broken`];
  let registry: string;
  let caller: TestSidecar;
  const callees: TestSidecar[] = [];
  const apps: Record<string, FaultyApp> = {};
  const metricsPorts: Record<string, number> = {};

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-invres-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    for (const appId of [RETRIED, MATCHED, BROKEN]) {
      const app = await startFaultyApp();
      apps[appId] = app;
      metricsPorts[appId] = await freePort();
      callees.push(await startTestSidecar({ appId, env, appPort: app.port, metricsPort: metricsPorts[appId] }));
    }
    metricsPorts['caller'] = await freePort();
    caller = await startTestSidecar({
      appId: `${id}-caller`,
      env,
      metricsPort: metricsPorts['caller'],
      resources: [
        `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: invoke-policies}
spec:
  policies:
    timeouts: {quick: 300ms}
    retries:
      flaky: {policy: constant, duration: 10ms, maxRetries: 3}
      only429: {policy: constant, duration: 10ms, maxRetries: 3, matching: {httpStatusCodes: "429"}}
    circuitBreakers:
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 1h, maxRequests: 1}
  targets:
    apps:
      ${RETRIED}: {retry: flaky, timeout: quick}
      ${MATCHED}: {retry: only429}
      ${BROKEN}: {circuitBreaker: tripAtTwo}
`,
      ],
    });
    const deadline = Date.now() + 10_000;
    while (!callees.every((c) => c.sidecar.health.ready()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    await Promise.all([caller?.stop(), ...callees.map((c) => c.stop())]);
    await Promise.all(Object.values(apps).map((a) => a.close()));
    await fs.rm(registry, { recursive: true, force: true });
  });

  const invoke = (appId: string, method: string, body = 'hello') =>
    fetch(`${caller.baseUrl}/v1.0/invoke/${appId}/method/${method}`, { method: 'POST', body });

  it('retries an app that fails twice with 503 and returns its eventual 200 with the body resent', async () => {
    apps[RETRIED]!.script.set('/flaky', [503, 503]);
    const res = await invoke(RETRIED, 'flaky', 'payload');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok:payload');
    expect(apps[RETRIED]!.calls.get('/flaky')).toBe(3);
  });

  it('retries gRPC InvokeService calls under the same app policy', async () => {
    apps[RETRIED]!.script.set('/grpc-flaky', [503, 502]);
    const client = daprGrpcClient(caller.sidecar.grpcPort);
    const outcome = await client.call('InvokeService', {
      id: RETRIED,
      message: { method: 'grpc-flaky', data: { type_url: '', value: Buffer.from('via-grpc') }, content_type: 'text/plain', http_extension: { verb: 'POST' } },
    });
    client.close();
    expect(outcome.error).toBeUndefined();
    expect(Buffer.from((outcome.reply?.['data'] as { value: Buffer }).value).toString()).toBe('ok:via-grpc');
    expect(apps[RETRIED]!.calls.get('/grpc-flaky')).toBe(3);
  });

  it('answers gRPC InvokeService with DEADLINE_EXCEEDED "context deadline exceeded" when every attempt times out', async () => {
    const client = daprGrpcClient(caller.sidecar.grpcPort);
    const outcome = await client.call('InvokeService', { id: RETRIED, message: { method: 'hang-grpc', http_extension: { verb: 'POST' } } });
    client.close();
    expect(outcome.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(outcome.error?.details).toBe('context deadline exceeded');
    // The first attempt and three retries, each cut off by the 300ms timeout.
    expect(apps[RETRIED]!.calls.get('/hang-grpc')).toBe(4);
  });

  it('answers gRPC InvokeService with UNKNOWN "circuit breaker is open" without reaching the app once the breaker opened', async () => {
    apps[BROKEN]!.script.set('/grpc-op', [500, 500, 500]);
    const client = daprGrpcClient(caller.sidecar.grpcPort);
    const once = () => client.call('InvokeService', { id: BROKEN, message: { method: 'grpc-op', http_extension: { verb: 'POST' } } });
    expect((await once()).error?.details).toContain('Received non-successful status code from app: 500');
    expect((await once()).error?.details).toContain('Received non-successful status code from app: 500');
    const refused = await once();
    client.close();
    expect(refused.error?.code).toBe(grpc.status.UNKNOWN);
    expect(refused.error?.details).toBe('circuit breaker is open');
    expect(apps[BROKEN]!.calls.get('/grpc-op')).toBe(2);
  });

  it('passes the last failing answer back once retries are exhausted', async () => {
    apps[RETRIED]!.script.set('/down', [500, 500, 500, 500, 500]);
    const res = await invoke(RETRIED, 'down');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('failed with 500');
    expect(apps[RETRIED]!.calls.get('/down')).toBe(4);
  });

  it('retries a 4xx answer too when matching lists no codes, as daprd does for any non-2xx/3xx answer', async () => {
    apps[RETRIED]!.script.set('/missing', [404]);
    const res = await invoke(RETRIED, 'missing');
    expect(res.status).toBe(200);
    expect(apps[RETRIED]!.calls.get('/missing')).toBe(2);
  });

  it('answers 500 ERR_DIRECT_INVOKE when every attempt times out', async () => {
    const res = await invoke(RETRIED, 'hang');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain(RETRIED);
    expect(apps[RETRIED]!.calls.get('/hang')).toBe(4);
  });

  it('retries only the statuses listed in matching.httpStatusCodes', async () => {
    apps[MATCHED]!.script.set('/busy', [429, 429]);
    apps[MATCHED]!.script.set('/broken', [503, 503]);
    expect((await invoke(MATCHED, 'busy')).status).toBe(200);
    expect(apps[MATCHED]!.calls.get('/busy')).toBe(3);
    expect((await invoke(MATCHED, 'broken')).status).toBe(503);
    expect(apps[MATCHED]!.calls.get('/broken')).toBe(1);
  });

  it('opens the circuit breaker after the trip expression and short-circuits further calls', async () => {
    apps[BROKEN]!.script.set('/op', [500, 500, 500]);
    expect((await invoke(BROKEN, 'op')).status).toBe(500);
    expect((await invoke(BROKEN, 'op')).status).toBe(500);
    const res = await invoke(BROKEN, 'op');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toMatch(/circuit breaker/i);
    // The third call never reached the app.
    expect(apps[BROKEN]!.calls.get('/op')).toBe(2);
  });

  it('records dapr_runtime_service_invocation_* on the caller and callee metrics endpoints', async () => {
    apps[MATCHED]!.script.set('/metered', [429]);
    expect((await invoke(MATCHED, 'metered')).status).toBe(200);
    const scrape = async (key: string) => (await fetch(`http://127.0.0.1:${metricsPorts[key]}/metrics`)).text();
    const value = (text: string, name: string, ...labels: string[]) =>
      Number(text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))?.split(' ').at(-1));
    const callerText = await scrape('caller');
    // Two attempts: the 429 was retried under the policy.
    expect(value(callerText, 'dapr_runtime_service_invocation_req_sent_total', `dst_app_id="${MATCHED}"`, 'type="http"')).toBeGreaterThanOrEqual(1);
    expect(value(callerText, 'dapr_runtime_service_invocation_res_recv_total', `src_app_id="${MATCHED}"`, 'status="200"', 'type="http"')).toBeGreaterThanOrEqual(1);
    expect(value(callerText, 'dapr_runtime_service_invocation_res_recv_latency_ms_count', `src_app_id="${MATCHED}"`, 'status="200"')).toBeGreaterThanOrEqual(1);
    const calleeText = await scrape(MATCHED);
    expect(value(calleeText, 'dapr_runtime_service_invocation_req_recv_total', `src_app_id="${id}-caller"`)).toBeGreaterThanOrEqual(2);
    expect(value(calleeText, 'dapr_runtime_service_invocation_res_sent_total', `dst_app_id="${id}-caller"`, 'status="429"')).toBeGreaterThanOrEqual(1);
    expect(value(calleeText, 'dapr_runtime_service_invocation_res_sent_total', `dst_app_id="${id}-caller"`, 'status="200"')).toBeGreaterThanOrEqual(1);
  });
});
