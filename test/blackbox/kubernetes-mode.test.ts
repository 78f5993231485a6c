/**
 * `weft sidecar --mode kubernetes` as a pod runs it: the internal port and the public health port on
 * every interface, the APIs on loopback only, the namespace from `NAMESPACE`, and app ids resolved to
 * `<app-id>-dapr.<namespace>.svc.cluster.local`. Ports are passed explicitly (free ones) because
 * parallel tests cannot all take 50002 and 3501; the defaults are covered by the flag unit tests.
 */
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

/** A non-loopback IPv4 address of this machine (what other pods would dial), if it has one. */
function externalAddress(): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const external = externalAddress();

describe('weft sidecar --mode kubernetes', () => {
  let tmp: string;
  let sidecar: WeftProcess;
  let internalPort: number;
  let publicPort: number;
  let appPort: number;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-k8s-mode-'));
    internalPort = await freePort();
    publicPort = await freePort();
    // Nothing listens on the app port: the sidecar stays "not ready" for the app, as a pod whose app is starting.
    appPort = await freePort();
    sidecar = await startWeftSidecar(
      [
        '--mode', 'kubernetes',
        '--app-id', 'cart',
        '--app-port', String(appPort),
        '--dapr-internal-grpc-port', String(internalPort),
        '--dapr-public-port', String(publicPort),
        '--data-dir', path.join(tmp, 'data'),
      ],
      { env: { NAMESPACE: 'shop-test', WEFT_REGISTRY_DIR: path.join(tmp, 'registry') }, timeoutMs: 60_000 },
    );
  }, 90_000);

  afterAll(async () => {
    await sidecar?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('resolves app ids through cluster DNS in the pod\'s namespace', async () => {
    const res = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/invoke/orders/method/ping`, { method: 'POST' });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain('orders-dapr.shop-test.svc.cluster.local');
    const other = (await (await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/invoke/orders.billing/method/ping`, { method: 'POST' })).json()) as { message: string };
    expect(other.message).toContain('orders-dapr.billing.svc.cluster.local');
    expect(sidecar.output()).toMatch(/name resolution: kubernetes\s+namespace: shop-test/);
  });

  it('serves health on the public port: outbound ready, not ready until the app listens, then ready', async () => {
    const base = `http://127.0.0.1:${publicPort}`;
    expect((await fetch(`${base}/v1.0/healthz/outbound`)).status).toBe(204);
    const notReady = await fetch(`${base}/v1.0/healthz`);
    expect(notReady.status).toBe(500);
    expect(((await notReady.json()) as { errorCode: string }).errorCode).toBe('ERR_HEALTH_NOT_READY');
    // Only health is served there: the state API is not reachable through the public port.
    expect((await fetch(`${base}/v1.0/state/statestore/x`)).status).toBe(404);
    const app = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    try {
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await fetch(`${base}/v1.0/healthz`)).status;
        if (status === 204) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(204);
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('answers a peer sidecar\'s HTTP/1.1 invocation on the internal port with the app\'s reply', async () => {
    const app = http.createServer((req, res) => res.end(`pong from ${req.url ?? ''} for ${String(req.headers['dapr-caller-app-id'])}`));
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${internalPort}/ping`, { headers: { 'dapr-caller-app-id': 'orders', 'dapr-caller-namespace': 'shop-test' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('pong from /ping for orders');
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it.runIf(external)('listens on every interface for the internal and public ports, on loopback only for the APIs', async () => {
    const host = external ?? '';
    expect(await canConnect(host, internalPort)).toBe(true);
    expect(await canConnect(host, publicPort)).toBe(true);
    expect((await fetch(`http://${host}:${publicPort}/v1.0/healthz/outbound`)).status).toBe(204);
    expect(await canConnect(host, sidecar.httpPort)).toBe(false);
    expect(await canConnect(host, sidecar.grpcPort)).toBe(false);
  });
});

/** One cleartext HTTP/2 request; resolves with the response headers and body. */
function h2Request(origin: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    session.on('error', reject);
    const req = session.request(headers);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ headers: responseHeaders, body: Buffer.concat(chunks), trailers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('weft sidecar --mode kubernetes: proxied gRPC calls on the internal port', () => {
  let tmp: string;
  let sidecar: WeftProcess;
  let internalPort: number;
  let app: http2.Http2Server;
  const seen: http2.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-k8s-grpc-'));
    // A stand-in gRPC app: answers every call with its own marker and grpc-status 0.
    app = http2.createServer();
    app.on('stream', (stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-answered-by': 'warehouse-app' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as net.AddressInfo).port;
    internalPort = await freePort();
    sidecar = await startWeftSidecar(
      [
        '--mode', 'kubernetes',
        '--app-id', 'warehouse',
        '--app-port', String(appPort),
        '--app-protocol', 'grpc',
        '--dapr-internal-grpc-port', String(internalPort),
        '--dapr-public-port', String(await freePort()),
        '--data-dir', path.join(tmp, 'data'),
      ],
      { env: { NAMESPACE: 'shop-test', WEFT_REGISTRY_DIR: path.join(tmp, 'registry') }, timeoutMs: 60_000 },
    );
  }, 90_000);

  afterAll(async () => {
    await sidecar?.stop();
    await new Promise((resolve) => app?.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('hands a peer sidecar\'s cleartext HTTP/2 call for this app to the app, with the caller id', async () => {
    const res = await h2Request(
      `http://127.0.0.1:${internalPort}`,
      { ':method': 'POST', ':path': '/warehouse.v1.Reservations/Confirm', 'content-type': 'application/grpc', 'dapr-app-id': 'warehouse', 'dapr-caller-app-id': 'order-worker', 'dapr-caller-namespace': 'shop-test' },
      Buffer.from([0, 0, 0, 0, 0]),
    );
    expect(res.headers['x-answered-by']).toBe('warehouse-app');
    expect(res.trailers['grpc-status']).toBe('0');
    const last = seen.at(-1);
    expect(last?.[':path']).toBe('/warehouse.v1.Reservations/Confirm');
    expect(last?.['dapr-caller-app-id']).toBe('order-worker');
    expect(last?.['dapr-app-id']).toBeUndefined();
  });

  it('refuses to relay a call for another app arriving there (no open relay), and still serves HTTP/1.1 on the same port', async () => {
    const before = seen.length;
    const res = await h2Request(
      `http://127.0.0.1:${internalPort}`,
      { ':method': 'POST', ':path': '/orders.v1.Orders/Get', 'content-type': 'application/grpc', 'dapr-app-id': 'orders', 'dapr-caller-app-id': 'order-worker' },
      Buffer.from([0, 0, 0, 0, 0]),
    );
    expect(res.headers['grpc-status'] ?? res.trailers['grpc-status']).toBe('12');
    expect(seen.length).toBe(before);
    const h1 = await fetch(`http://127.0.0.1:${internalPort}/v1.0/healthz`);
    expect(h1.status).toBeGreaterThanOrEqual(200);
    expect(h1.headers.get('content-type') ?? '').not.toContain('grpc');
  });
});
