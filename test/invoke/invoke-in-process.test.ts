/**
 * Service invocation through two real in-process sidecars (caller → callee sidecar → callee app),
 * with name resolution on a private registry directory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoApp } from '../support/echo-app.js';
import type { Echo, EchoApp } from '../support/echo-app.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { freePort } from '../support/weft-process.js';

const MB = 1024 * 1024;

describe('HTTP service invocation between two sidecars', () => {
  let registry: string;
  let appB: EchoApp;
  let a: TestSidecar;
  let b: TestSidecar;
  let down: TestSidecar;
  let guarded: TestSidecar;
  let appG: EchoApp;
  const id = `inv${process.pid}`;
  const A = `${id}-a`;
  const B = `${id}-b`;
  const DOWN = `${id}-down`;
  const G = `${id}-g`;

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-reg-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    const config = path.join(registry, 'config.yaml');
    await fs.writeFile(
      config,
      `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: acl}
spec:
  accessControl:
    defaultAction: deny
    policies:
    - appId: ${A}
      defaultAction: allow
      operations: [{name: /admin/**, httpVerb: ['*'], action: deny}]
    - appId: ${DOWN}
      defaultAction: allow
`,
    );
    appB = await startEchoApp(B);
    a = await startTestSidecar({
      appId: A,
      env,
      maxRequestBodyBytes: 20 * MB,
      resources: [
        `apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata: {name: legacy-api}
spec:
  baseUrl: http://127.0.0.1:${appB.port}/v2
  headers: [{name: x-endpoint-key, value: k1}]
`,
      ],
    });
    b = await startTestSidecar({ appId: B, env, appPort: appB.port, configPath: config, maxRequestBodyBytes: 20 * MB });
    down = await startTestSidecar({ appId: DOWN, env, appPort: await freePort() });
    appG = await startEchoApp(G);
    guarded = await startTestSidecar({
      appId: G,
      env,
      appPort: appG.port,
      appApiToken: 'app-secret',
      appHealthCheck: { path: '/healthz', intervalMs: 50, timeoutMs: 500, threshold: 2 },
    });
    const deadline = Date.now() + 10_000;
    while (!b.sidecar.health.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), down?.stop(), appB?.stop(), guarded?.stop(), appG?.stop()]);
    await fs.rm(registry, { recursive: true, force: true });
  });

  it('passes verb, method path, query and headers to the callee app and adds the Dapr headers', async () => {
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/orders/42/items?x=1&y=two`, {
      method: 'POST',
      headers: { 'x-foo': 'bar', 'content-type': 'text/plain', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      body: 'hello',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-app-header')).toBe('from-app');
    const echo = (await res.json()) as Echo;
    expect(echo).toMatchObject({ app: B, method: 'POST', path: '/orders/42/items', query: 'x=1&y=two', size: 5 });
    expect(echo.headers).toMatchObject({
      'x-foo': 'bar',
      'content-type': 'text/plain',
      'dapr-caller-app-id': A,
      'dapr-callee-app-id': B,
      'x-forwarded-for': '127.0.0.1',
    });
    expect(echo.headers['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(echo.headers['forwarded']).toContain('for=127.0.0.1');
    expect(echo.headers['x-forwarded-host']).toBe(new URL(a.baseUrl).host);
  });

  it('passes every verb through', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/verb`, { method });
      expect(res.status, method).toBe(200);
      expect(((await res.json()) as Echo).method).toBe(method);
    }
    const head = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/verb`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-app-header')).toBe('from-app');
  });

  it('targets the app with the dapr-app-id header or basic auth on any path, without forwarding them', async () => {
    const viaHeader = await fetch(`${a.baseUrl}/neworder?z=9`, { method: 'POST', headers: { 'dapr-app-id': B }, body: '{}' });
    const echo = (await viaHeader.json()) as Echo;
    expect(echo).toMatchObject({ path: '/neworder', query: 'z=9', method: 'POST' });
    expect(echo.headers['dapr-app-id']).toBeUndefined();
    const url = new URL(`${a.baseUrl}/pay`);
    const viaAuth = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`dapr-app-id:${B}`).toString('base64')}` } });
    const authEcho = (await viaAuth.json()) as Echo;
    expect(authEcho.path).toBe('/pay');
    expect(authEcho.headers['authorization']).toBeUndefined();
  });

  it('returns the callee status codes, headers and bodies as they are', async () => {
    for (const status of [201, 404, 418, 500, 503]) {
      const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/status/${status}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
      expect(((await res.json()) as Echo).path).toBe(`/status/${status}`);
    }
  });

  it('carries a 5 MB body both ways intact', async () => {
    const body = Buffer.alloc(5 * MB, 7);
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/upload`, { method: 'PUT', body });
    const echo = (await res.json()) as Echo;
    expect(echo.size).toBe(body.length);
    expect(echo.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const big = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/big?bytes=${5 * MB}`);
    expect((await big.arrayBuffer()).byteLength).toBe(5 * MB);
  });

  it('refuses a body over the caller limit with 413 and keeps serving', async () => {
    const res = await fetch(`${down.baseUrl}/v1.0/invoke/${B}/method/upload`, { method: 'POST', body: Buffer.alloc(5 * MB) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_BODY_READ');
    expect((await fetch(`${down.baseUrl}/v1.0/invoke/${B}/method/ok`)).status).toBe(200);
  });

  it('refuses a streamed (chunked) body once it passes the limit', async () => {
    const chunk = new Uint8Array(MB);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${down.baseUrl}/v1.0/invoke/${B}/method/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect((await fetch(`${down.baseUrl}/v1.0/invoke/${B}/method/ok`)).status).toBe(200);
  });

  it('answers 403 ERR_DIRECT_INVOKE when the callee access control denies the caller', async () => {
    const denied = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/admin/users`, { method: 'DELETE' });
    expect(denied.status).toBe(403);
    const body = (await denied.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain(B);
    // An app without a policy (here the callee calling itself) falls under the global deny.
    const stranger = await fetch(`${b.baseUrl}/v1.0/invoke/${B}/method/ok`);
    expect(stranger.status).toBe(403);
  });

  it('answers 500 ERR_DIRECT_INVOKE naming the app for an unknown app id and a callee whose app is down', async () => {
    const unknown = await fetch(`${a.baseUrl}/v1.0/invoke/nosuchapp/method/x`);
    expect(unknown.status).toBe(500);
    expect(await unknown.json()).toEqual({ errorCode: 'ERR_DIRECT_INVOKE', message: "failed to invoke, id: nosuchapp, err: couldn't find service: nosuchapp" });
    const appDown = await fetch(`${a.baseUrl}/v1.0/invoke/${DOWN}/method/x`);
    expect(appDown.status).toBe(500);
    const body = (await appDown.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain(`id: ${DOWN}`);
  });

  it('answers 404 ERR_DIRECT_INVOKE for an invoke path without a method', async () => {
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/${B}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_DIRECT_INVOKE');
  });

  it('calls an external URL given in place of the app id directly', async () => {
    const target = encodeURIComponent(`http://127.0.0.1:${appB.port}/base`);
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/${target}/method/ext?q=1`);
    expect(res.status).toBe(200);
    expect((await res.json()) as Echo).toMatchObject({ path: '/base/ext', query: 'q=1' });
  });

  it('sends APP_API_TOKEN to the callee app as dapr-api-token', async () => {
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/${G}/method/token`, { headers: { 'dapr-api-token': 'caller-token' } });
    const echo = (await res.json()) as Echo;
    expect(echo.headers['dapr-api-token']).toBe('app-secret');
  });

  it('stops calls to an app its health checks find unhealthy and resumes them when it recovers', async () => {
    const call = () => fetch(`${a.baseUrl}/v1.0/invoke/${G}/method/work`);
    const waitFor = async (status: number) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const res = await call();
        const body = await res.text();
        if (res.status === status) return body;
        if (Date.now() > deadline) throw new Error(`expected ${status}, still ${res.status}: ${body}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await waitFor(200);
    await fetch(`http://127.0.0.1:${appG.port}/set-health?healthy=false`);
    const refused = JSON.parse(await waitFor(500)) as { errorCode: string; message: string };
    expect(refused.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(refused.message).toContain(`id: ${G}`);
    await fetch(`http://127.0.0.1:${appG.port}/set-health?healthy=true`);
    await waitFor(200);
  });

  it('cancels the call into a hanging callee when the caller gives up, and keeps serving', async () => {
    const hung = fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/hang`, { signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow();
    const after = await fetch(`${a.baseUrl}/v1.0/invoke/${B}/method/after-hang`);
    expect(after.status).toBe(200);
    expect(((await after.json()) as Echo).path).toBe('/after-hang');
    // The app saw its pending request cancelled: nothing is left waiting on the hung call.
    const deadline = Date.now() + 10_000;
    let aborted = 0;
    while (aborted === 0 && Date.now() < deadline) {
      aborted = ((await (await fetch(`http://127.0.0.1:${appB.port}/stats`)).json()) as { aborted: number }).aborted;
      if (aborted === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(aborted).toBe(1);
  });

  it('calls an HTTPEndpoint resource by name with its base path and headers, and lists it in metadata', async () => {
    const res = await fetch(`${a.baseUrl}/v1.0/invoke/legacy-api/method/users/7?full=1`);
    const echo = (await res.json()) as Echo;
    expect(echo).toMatchObject({ path: '/v2/users/7', query: 'full=1' });
    expect(echo.headers['x-endpoint-key']).toBe('k1');
    const metadata = (await (await fetch(`${a.baseUrl}/v1.0/metadata`)).json()) as { httpEndpoints: { name: string }[] };
    expect(metadata.httpEndpoints).toEqual([{ name: 'legacy-api' }]);
  });

  it('requires the caller sidecar API token on invocation and does not forward it', async () => {
    const guardedCaller = await startTestSidecar({ appId: `${id}-tok`, env: { WEFT_REGISTRY_DIR: registry }, apiToken: 'api-secret' });
    try {
      const refused = await fetch(`${guardedCaller.baseUrl}/v1.0/invoke/${B}/method/x`);
      expect(refused.status).toBe(401);
      expect(await refused.text()).toBe('invalid api token');
      const ok = await fetch(`${guardedCaller.baseUrl}/v1.0/invoke/${A}/method/x`, { headers: { 'dapr-api-token': 'api-secret' } });
      // A has no app: its sidecar answers, so the token got the call through to the callee side.
      expect(ok.status).toBe(500);
      expect(((await ok.json()) as { message: string }).message).toContain('app channel is not initialized');
      const viaG = await fetch(`${guardedCaller.baseUrl}/v1.0/invoke/${G}/method/x`, { headers: { 'dapr-api-token': 'api-secret' } });
      expect(((await viaG.json()) as Echo).headers['dapr-api-token']).toBe('app-secret');
    } finally {
      await guardedCaller.stop();
    }
  });
});
