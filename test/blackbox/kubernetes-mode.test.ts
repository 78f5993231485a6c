/**
 * `weft sidecar --mode kubernetes` as a pod runs it: the internal port and the public health port on
 * every interface, the APIs on loopback only, the namespace from `NAMESPACE`, and app ids resolved to
 * `<app-id>-dapr.<namespace>.svc.cluster.local`. Ports are passed explicitly (free ones) because
 * parallel tests cannot all take 50002 and 3501; the defaults are covered by the flag unit tests.
 */
import fs from 'node:fs';
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

  it.runIf(external)('listens on every interface for the internal and public ports, on loopback only for the APIs', async () => {
    const host = external ?? '';
    expect(await canConnect(host, internalPort)).toBe(true);
    expect(await canConnect(host, publicPort)).toBe(true);
    expect((await fetch(`http://${host}:${publicPort}/v1.0/healthz/outbound`)).status).toBe(204);
    expect(await canConnect(host, sidecar.httpPort)).toBe(false);
    expect(await canConnect(host, sidecar.grpcPort)).toBe(false);
  });
});
