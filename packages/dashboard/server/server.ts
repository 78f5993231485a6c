/**
 * The dashboard server: serves the built browser app, lists sidecars, proxies the browser's calls to
 * a sidecar's HTTP API (adding that sidecar's API token), counts workflow instances, tails `weft run
 * -f` log files and pushes live updates over server-sent events. node:http only: a dozen routes do
 * not need a framework.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenMatches } from '@weft/runtime';
import type { AppLogsResponse, DashboardEvent, GraphNode, GraphResponse, SidecarsResponse, WorkflowCountsResponse, WorkflowListResponse } from '../src/shared/api.js';
import { TOKEN_COOKIE, authorize, isLoopbackHost } from './auth.js';
import { SidecarDirectory, summary } from './sidecars.js';
import type { ExplicitSidecar, KnownSidecar } from './sidecars.js';
import { serveStatic } from './static.js';
import { MetricsSampler } from './metrics.js';

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 9999 */
  port?: number;
  /** Required when `host` is not a loopback address. */
  token?: string;
  /** The local registry to discover sidecars in; undefined turns discovery off. */
  registryDir?: string;
  /** Token for discovered sidecars (their `DAPR_API_TOKEN`). */
  registryToken?: string;
  /** Sidecars given by address. */
  sidecars?: readonly ExplicitSidecar[];
  /** How often sidecars are re-read and live views refresh. @default 2000 */
  refreshMs?: number;
  /** The built browser app. @default the package's `dist/` */
  assetsDir?: string;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** e.g. `http://127.0.0.1:9999`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Raised when the options are unsafe or invalid (a non-loopback host without a token). */
export class DashboardConfigError extends Error {
  override name = 'DashboardConfigError';
}

/** API path prefixes the proxy forwards; anything else on a sidecar stays unreachable from the page. */
const PROXY_PREFIXES = ['/v1.0/', '/v1.0-alpha1/', '/v1.0-beta1/', '/v1.0-weft/admin/'];
/** Request headers passed to the sidecar. */
const FORWARD_REQUEST = ['content-type', 'if-match', 'accept'];
/** Response headers passed back. */
const FORWARD_RESPONSE = ['content-type', 'etag'];
/** A sidecar without the admin counts route is counted by paging, which stops here (lower bounds). */
const COUNT_LIMIT = 50_000;
/** Bytes read from the end of a log file. */
const LOG_TAIL_BYTES = 256 * 1024;

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Counts instances per status under the list filters by paging through the sidecar's list API. */
export async function countWorkflows(
  list: (query: URLSearchParams) => Promise<WorkflowListResponse>,
  filters: URLSearchParams,
  limit = COUNT_LIMIT,
): Promise<WorkflowCountsResponse> {
  const counts: Record<string, number> = {};
  let total = 0;
  let token: string | undefined;
  do {
    const query = new URLSearchParams(filters);
    query.set('pageSize', '1000');
    if (token) query.set('continuationToken', token);
    const page = await list(query);
    for (const i of page.instances) counts[i.runtimeStatus] = (counts[i.runtimeStatus] ?? 0) + 1;
    total += page.instances.length;
    token = page.continuationToken;
  } while (token && total < limit);
  return { counts, total, capped: Boolean(token) };
}

async function tailFile(file: string, maxLines: number): Promise<string[]> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // A partial first line.
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-maxLines);
  } finally {
    await handle.close();
  }
}

/** Starts the dashboard server. */
export async function startDashboardServer(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.token) {
    throw new DashboardConfigError(`binding the dashboard to ${host} (beyond this machine) requires a token: pass --token or set WEFT_DASHBOARD_TOKEN`);
  }
  const assetsDir = options.assetsDir ?? path.join(packageDir, 'dist');
  const directory = new SidecarDirectory({
    explicit: options.sidecars ?? [],
    ...(options.registryDir ? { registryDir: options.registryDir } : {}),
    ...(options.registryToken ? { registryToken: options.registryToken } : {}),
  });
  await directory.refresh();
  const sampler = new MetricsSampler();
  const clients = new Set<http.ServerResponse>();
  let lastSidecars = JSON.stringify(directory.list().map(summary));

  const broadcast = (event: DashboardEvent) => {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  let refreshing = false;
  const timer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    directory
      .refresh()
      .then(async (list) => {
        await Promise.all(list.filter((s) => s.metricsUrl).map((s) => sampler.sample(s.id, s.metricsUrl!)));
        const now = JSON.stringify(list.map(summary));
        if (now !== lastSidecars) {
          lastSidecars = now;
          broadcast({ type: 'sidecars', sidecars: list.map(summary) });
        }
        broadcast({ type: 'tick', at: new Date().toISOString() });
      })
      .catch(() => undefined)
      .finally(() => (refreshing = false));
  }, options.refreshMs ?? 2000);
  timer.unref();

  const callSidecar = async (s: KnownSidecar, method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer) => {
    return fetch(`${s.httpUrl}${pathAndQuery}`, {
      method,
      headers: { ...headers, ...(s.token ? { 'dapr-api-token': s.token } : {}) },
      ...(body && body.length > 0 ? { body: new Uint8Array(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  };

  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // ['api', ...]
    if (parts[1] === 'sidecars' && parts.length === 2) {
      const body: SidecarsResponse = {
        sidecars: directory.list().map(summary),
        discovery: { registryDir: options.registryDir ?? '', explicit: (options.sidecars ?? []).map((s) => s.url) },
      };
      return sendJson(res, 200, body);
    }
    if (parts[1] === 'graph') {
      const list = directory.list();
      const nodes = new Map<string, GraphNode>(list.map((s) => [`app:${s.appId}`, { id: `app:${s.appId}`, kind: 'app', label: s.appId, healthy: s.healthy }]));
      const edges = list.flatMap((s) => sampler.edges(s.id, s.appId));
      for (const e of edges) {
        for (const id of [e.from, e.to]) {
          if (!nodes.has(id)) nodes.set(id, { id, kind: id.startsWith('topic:') ? 'topic' : 'app', label: id.slice(id.indexOf(':') + 1) });
        }
      }
      return sendJson(res, 200, { nodes: [...nodes.values()], edges, windowSeconds: 60 } satisfies GraphResponse);
    }
    if (parts[1] === 'events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 2000\ndata: ${JSON.stringify({ type: 'sidecars', sidecars: directory.list().map(summary) } satisfies DashboardEvent)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (parts[1] !== 'sidecars' || parts[2] === undefined) return sendJson(res, 404, { error: `no route ${url.pathname}` });
    const sidecar = await directory.get(parts[2]);
    if (!sidecar) return sendJson(res, 404, { error: `no sidecar "${parts[2]}" is known to the dashboard` });
    const action = parts[3];
    if (action === 'proxy') {
      const target = '/' + url.pathname.split('/').slice(5).join('/');
      if (!PROXY_PREFIXES.some((p) => target.startsWith(p))) return sendJson(res, 403, { error: `the dashboard does not proxy ${target}` });
      const headers: Record<string, string> = {};
      for (const name of FORWARD_REQUEST) {
        const v = req.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      let upstream: Response;
      try {
        upstream = await callSidecar(sidecar, req.method ?? 'GET', target + url.search, headers, body);
      } catch (err) {
        return sendJson(res, 502, { errorCode: 'ERR_DASHBOARD_SIDECAR_UNREACHABLE', message: `sidecar ${sidecar.id} at ${sidecar.httpUrl}: ${(err as Error).message}` });
      }
      const out: Record<string, string> = { 'cache-control': 'no-store' };
      for (const name of FORWARD_RESPONSE) {
        const v = upstream.headers.get(name);
        if (v !== null) out[name] = v;
      }
      const data = Buffer.from(await upstream.arrayBuffer());
      out['content-length'] = String(data.length);
      res.writeHead(upstream.status, out);
      res.end(data);
      return;
    }
    if (action === 'workflow-counts') {
      const filters = new URLSearchParams(url.search);
      filters.delete('status');
      // Exact counts from the sidecar's index (one query); paging is the fallback for older sidecars.
      const exact = await callSidecar(sidecar, 'GET', `/v1.0-weft/admin/workflows/counts?${filters.toString()}`, {});
      if (exact.ok) {
        const body = (await exact.json()) as { counts: Record<string, number>; total: number };
        return sendJson(res, 200, { counts: body.counts, total: body.total, capped: false } satisfies WorkflowCountsResponse);
      }
      const reason = await exact.text();
      if (exact.status !== 404) return sendJson(res, exact.status, safeJson(reason) ?? { error: reason });
      const result = await countWorkflows(async (query) => {
        const r = await callSidecar(sidecar, 'GET', `/v1.0/workflows/dapr?${query.toString()}`, {});
        if (!r.ok) throw new Error(`the sidecar answered HTTP ${r.status}: ${await r.text()}`);
        return (await r.json()) as WorkflowListResponse;
      }, filters);
      return sendJson(res, 200, result);
    }
    if (action === 'metrics') return sendJson(res, 200, sampler.response(sidecar.id, sidecar.metricsUrl));
    if (action === 'app-logs') {
      const source = url.searchParams.get('source') === 'daprd' ? 'daprd' : 'app';
      const file = source === 'app' ? sidecar.appLogPath : sidecar.daprdLogPath;
      if (!file) return sendJson(res, 404, { error: `sidecar ${sidecar.id} has no ${source} log file (only apps started with weft run -f do)` });
      const lines = await tailFile(file, Math.min(5000, Number(url.searchParams.get('lines') ?? '500') || 500));
      return sendJson(res, 200, { source, path: file, lines } satisfies AppLogsResponse);
    }
    return sendJson(res, 404, { error: `no route ${url.pathname}` });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    // Opening the page with ?token= once sets the cookie, then the token leaves the address bar.
    const given = url.searchParams.get('token');
    if (options.token && given !== null && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      url.searchParams.delete('token');
      if (tokenMatches(options.token, given)) {
        res.writeHead(303, {
          'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`,
          location: url.pathname + (url.search || ''),
        });
        res.end();
        return;
      }
    }
    const decision = authorize(req, options.token);
    if (!decision.allow) {
      if (url.pathname.startsWith('/api/')) return sendJson(res, decision.status, { error: decision.reason });
      res.writeHead(decision.status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Weft dashboard: token required</title><main style="font:16px system-ui;margin:4rem"><h1>Token required</h1><p>${decision.reason}</p></main>`);
      return;
    }
    const work = url.pathname.startsWith('/api/') ? handleApi(req, res, url) : serveStatic(assetsDir, url.pathname, res);
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 502, { error: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9999, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
