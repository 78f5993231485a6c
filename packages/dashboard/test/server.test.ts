/**
 * The dashboard server against an in-process sidecar with an API token: the proxy adds the token and
 * forwards only API paths, workflow counts come exact from the admin API (paging is the fallback), and the dashboard's own
 * token and loopback rules hold.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../test/support/in-process.js';
import type { TestSidecar } from '../../../test/support/in-process.js';
import { DashboardConfigError, countWorkflows, startDashboardServer } from '../server/index.js';
import type { DashboardServer } from '../server/index.js';
import type { SidecarsResponse, WorkflowInstance } from '../src/shared/api.js';

const STORE = 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\nspec:\n  type: state.in-memory\n  version: v1\n';

describe('dashboard server', () => {
  let sidecar: TestSidecar;
  let dashboard: DashboardServer;
  let assets: string;

  beforeAll(async () => {
    sidecar = await startTestSidecar({ resources: [STORE], apiToken: 'sidecar-secret' });
    assets = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-dash-assets-'));
    await fs.writeFile(path.join(assets, 'index.html'), '<!doctype html><title>Weft dashboard</title>');
    dashboard = await startDashboardServer({ port: 0, sidecars: [{ url: sidecar.baseUrl, token: 'sidecar-secret' }], assetsDir: assets });
  });
  afterAll(async () => {
    await dashboard?.close();
    await sidecar?.stop();
    if (assets) await fs.rm(assets, { recursive: true, force: true });
  });

  it('lists a --sidecar address by the app id its metadata reports, without its token', async () => {
    const body = (await (await fetch(`${dashboard.url}/api/sidecars`)).json()) as SidecarsResponse;
    expect(body.sidecars).toHaveLength(1);
    expect(body.sidecars[0]).toMatchObject({ appId: 'test-app', healthy: true, source: 'flag' });
    expect(JSON.stringify(body)).not.toContain('sidecar-secret');
  });

  it("counts workflow instances exactly through the sidecar's admin API, under the filters", async () => {
    const id = encodeURIComponent(new URL(sidecar.baseUrl).host);
    for (const i of ['c1', 'c2']) {
      const started = await fetch(`${sidecar.baseUrl}/v1.0/workflows/dapr/countme/start?instanceID=${i}`, { method: 'POST', headers: { 'dapr-api-token': 'sidecar-secret' } });
      expect(started.status).toBe(202);
    }
    const all = await (await fetch(`${dashboard.url}/api/sidecars/${id}/workflow-counts`)).json();
    expect(all).toEqual({ counts: { PENDING: 2 }, total: 2, capped: false });
    const none = await (await fetch(`${dashboard.url}/api/sidecars/${id}/workflow-counts?name=other`)).json();
    expect(none).toEqual({ counts: {}, total: 0, capped: false });
    const bad = await fetch(`${dashboard.url}/api/sidecars/${id}/workflow-counts?createdFrom=yesterday`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errorCode: string }).errorCode).toBe('ERR_BAD_REQUEST');
  });

  it('proxies API calls with the sidecar token, passing ETags and Dapr errors through', async () => {
    const id = encodeURIComponent(new URL(sidecar.baseUrl).host);
    const base = `${dashboard.url}/api/sidecars/${id}/proxy`;
    const saved = await fetch(`${base}/v1.0/state/store`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"key":"k","value":1}]' });
    expect(saved.status).toBe(204);
    const got = await fetch(`${base}/v1.0/state/store/k`);
    expect(await got.text()).toBe('1');
    const etag = got.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const stale = await fetch(`${base}/v1.0/state/store`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'k', value: 2, etag: `${etag}0`, options: { concurrency: 'first-write' } }]),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { errorCode: string }).errorCode).toBe('ERR_STATE_SAVE');
    const keys = await fetch(`${base}/v1.0-weft/admin/state/store/keys`);
    expect(((await keys.json()) as { keys: { key: string }[] }).keys.map((k) => k.key)).toEqual(['k']);
    expect((await fetch(`${base}/dapr/config`)).status).toBe(403);
    expect((await fetch(`${dashboard.url}/api/sidecars/nobody/proxy/v1.0/metadata`)).status).toBe(404);
  });

  it('serves the app for any page path, so shared links open', async () => {
    const res = await fetch(`${dashboard.url}/workflows/x/y?status=RUNNING`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Weft dashboard');
  });

  it('refuses a non-loopback Host header when it has no token (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get(`${dashboard.url}/api/sidecars`, { headers: { host: 'evil.example:9999' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(403);
  });
});

describe('dashboard token', () => {
  it('refuses to bind beyond loopback without a token', async () => {
    await expect(startDashboardServer({ host: '0.0.0.0', port: 0 })).rejects.toBeInstanceOf(DashboardConfigError);
  });

  it('requires the token on every request, and turns ?token= into a cookie', async () => {
    const assets = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-dash-assets-'));
    await fs.writeFile(path.join(assets, 'index.html'), '<title>ok</title>');
    const server = await startDashboardServer({ port: 0, token: 't0ken', assetsDir: assets });
    try {
      expect((await fetch(`${server.url}/api/sidecars`)).status).toBe(401);
      expect((await fetch(`${server.url}/`)).status).toBe(401);
      expect((await fetch(`${server.url}/api/sidecars`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${server.url}/api/sidecars`, { headers: { authorization: 'Bearer t0ken' } })).status).toBe(200);
      const opened = await fetch(`${server.url}/state?token=t0ken&app=a`, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      expect(opened.headers.get('location')).toBe('/state?app=a');
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      expect(cookie).toBe('weft_dashboard_token=t0ken');
      expect((await fetch(`${server.url}/state?app=a`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${server.url}/state?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    } finally {
      await server.close();
      await fs.rm(assets, { recursive: true, force: true });
    }
  });
});

describe('countWorkflows', () => {
  const instance = (status: string): WorkflowInstance => ({ instanceID: status, workflowName: 'w', createdAt: '', lastUpdatedAt: '', runtimeStatus: status });

  it('pages through the list with the filters and counts per status', async () => {
    const seen: string[] = [];
    const pages = [
      { instances: [instance('RUNNING'), instance('COMPLETED')], continuationToken: 't1' },
      { instances: [instance('COMPLETED')] },
    ];
    const result = await countWorkflows(async (q) => {
      seen.push(q.toString());
      return pages[seen.length - 1]!;
    }, new URLSearchParams({ name: 'order' }));
    expect(result).toEqual({ counts: { RUNNING: 1, COMPLETED: 2 }, total: 3, capped: false });
    expect(seen).toEqual(['name=order&pageSize=1000', 'name=order&pageSize=1000&continuationToken=t1']);
  });

  it('stops at the limit and says the counts are lower bounds', async () => {
    const result = await countWorkflows(async () => ({ instances: [instance('RUNNING'), instance('RUNNING')], continuationToken: 'more' }), new URLSearchParams(), 3);
    expect(result).toMatchObject({ total: 4, capped: true });
  });
});
