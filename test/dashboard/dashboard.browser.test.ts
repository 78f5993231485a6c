/**
 * The dashboard in a real browser (Debian Chromium through playwright-core) over real `weft`
 * processes: `weft run -f` starts a workflow app (`@dapr/dapr` WorkflowRuntime) and a pub/sub app with
 * `dashboard:` in the run file. The tests assert what the pages show and act through them: instance
 * counts, a fan-out timeline, raising an event, terminating, rerunning from a step with an edited
 * input, replaying a dead letter, editing state
 * with a stale ETag refused, and the token required beyond loopback. They save the screenshots of
 * the main pages shown in the README (`docs/dashboard/*.png`, with `WEFT_UPDATE_SCREENSHOTS=1`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, requireChromium } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * Every run takes the screenshots (rendering each page is part of the test); they replace the README's
 * committed ones under `docs/dashboard/` only with `WEFT_UPDATE_SCREENSHOTS=1` (`npm run screenshots`),
 * so `npm test` leaves the tree clean.
 */
const SHOTS =
  process.env['WEFT_UPDATE_SCREENSHOTS'] === '1' ? path.join(REPO, 'docs', 'dashboard') : path.join(os.tmpdir(), `weft-dashboard-shots-${process.pid}`);
const TSX = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const suffix = Math.random().toString(36).slice(2, 8);
const FANOUT = `order-${suffix}`;
const APPROVAL = `approve-${suffix}`;
const FOREVER = `forever-${suffix}`;
const ITEMS = [
  { sku: 'apple', qty: 2 },
  { sku: 'pear', qty: 3 },
  { sku: 'fig', qty: 1 },
  { sku: 'plum', qty: 5 },
];

interface Sidecar {
  id: string;
  appId: string;
  httpUrl: string;
  healthy: boolean;
}

/** A child process in its own group, killed whole. */
function startGroup(args: string[], env: NodeJS.ProcessEnv, cwd: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function killGroup(child: ChildProcess | undefined, exited: Promise<unknown> | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)} ${error ? String(error) : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until a locator's text contains `text`. */
async function shows(locator: Locator, text: string | RegExp, timeoutMs = 30_000): Promise<void> {
  await until(
    `text ${String(text)}`,
    async () => (await locator.first().textContent({ timeout: 1000 })) ?? '',
    (t) => (typeof text === 'string' ? t.includes(text) : text.test(t)),
    timeoutMs,
  );
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const runnable = requireChromium('dashboard');
/** The machine is shared: a page step may wait on a loaded CPU. */
const STEP_MS = 120_000;

describe.skipIf(!runnable)('the dashboard in a browser', () => {
  let dir: string;
  let run: ReturnType<typeof startGroup> | undefined;
  let browser: TestBrowser | undefined;
  let page: Page;
  let dashboardUrl: string;
  let workflowSidecar: Sidecar;
  let shippingSidecar: Sidecar;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-dashboard-'));
    await fs.mkdir(SHOTS, { recursive: true });
    const dashboardPort = await freePort();
    const appPort = await freePort();
    dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
    for (const d of ['orders', 'shipping']) await fs.mkdir(path.join(dir, d));
    const command = (file: string) => JSON.stringify(['node', '--import', TSX, path.join(REPO, 'test/dashboard/apps', file)]);
    await fs.writeFile(
      path.join(dir, 'weft.yaml'),
      [
        'version: 1',
        'dashboard:',
        `  port: ${dashboardPort}`,
        'apps:',
        '  - appID: orders',
        '    appDirPath: ./orders',
        `    command: ${command('workflow-app.ts')}`,
        '  - appID: shipping',
        '    appDirPath: ./shipping',
        `    appPort: ${appPort}`,
        `    configFilePath: ${path.join(dir, 'shipping-config.yaml')}`,
        `    command: ${command('pubsub-app.ts')}`,
        '',
      ].join('\n'),
    );
    // The components page shows the Configuration and its access-control rules (all allowed here).
    await fs.writeFile(
      path.join(dir, 'shipping-config.yaml'),
      [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Configuration',
        'metadata:',
        '  name: shipping-config',
        'spec:',
        '  accessControl:',
        '    defaultAction: allow',
        '    policies:',
        '      - appId: orders',
        '        defaultAction: allow',
        '        operations:',
        '          - name: /health',
        '            httpVerb: [GET]',
        '            action: allow',
        '',
      ].join('\n'),
    );
    run = startGroup([WEFT_BIN, 'run', '-f', 'weft.yaml'], { WEFT_REGISTRY_DIR: path.join(dir, 'registry') }, dir);
    const sidecars = await until(
      'both sidecars healthy in the dashboard',
      async () => (await json<{ sidecars: Sidecar[] }>(`${dashboardUrl}/api/sidecars`)).sidecars,
      (list) => list.filter((s) => s.healthy).length === 2,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${run?.output() ?? ''}`);
    });
    workflowSidecar = sidecars.find((s) => s.appId === 'orders')!;
    shippingSidecar = sidecars.find((s) => s.appId === 'shipping')!;
    await until(
      'the workflow worker and the subscription',
      async () => [
        await json<{ workflows?: { connectedWorkers: number } }>(`${workflowSidecar.httpUrl}/v1.0/metadata`),
        await json<{ subscriptions: unknown[] }>(`${shippingSidecar.httpUrl}/v1.0/metadata`),
      ] as const,
      ([wf, ship]) => (wf.workflows?.connectedWorkers ?? 0) > 0 && ship.subscriptions.length > 0,
    );
    const start = (name: string, id: string, input?: unknown) =>
      json(`${workflowSidecar.httpUrl}/v1.0/workflows/dapr/${name}/start?instanceID=${id}`, { method: 'POST', ...(input === undefined ? {} : { body: JSON.stringify(input) }) });
    await start('orderFanOut', FANOUT, { items: ITEMS });
    await start('approval', APPROVAL, { amount: 420 });
    await start('waitsForever', FOREVER);
    await until(
      'the fan-out to complete and the others to run',
      async () => Promise.all([FANOUT, APPROVAL, FOREVER].map(async (id) => (await json<{ runtimeStatus: string }>(`${workflowSidecar.httpUrl}/v1.0/workflows/dapr/${id}`)).runtimeStatus)),
      (s) => s.join() === 'COMPLETED,RUNNING,RUNNING',
    );
    const save = await fetch(`${shippingSidecar.httpUrl}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { key: 'order-1', value: { total: 12, currency: 'EUR' } },
        { key: 'order-2', value: { total: 40, currency: 'EUR' }, metadata: { ttlInSeconds: '3600' } },
      ]),
    });
    expect(save.status).toBe(204);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await killGroup(run?.child, run?.exited);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    if (process.env['WEFT_UPDATE_SCREENSHOTS'] !== '1') await fs.rm(SHOTS, { recursive: true, force: true });
  }, 60_000);

  it('shows both apps with their health, ports and pids', async () => {
    await page.goto(`${dashboardUrl}/apps`);
    const rows = page.locator('main table tbody tr');
    await shows(page.locator('main'), 'orders');
    await shows(page.locator('main'), 'shipping');
    expect(await rows.count()).toBe(2);
    await shows(rows.filter({ hasText: 'shipping' }), 'healthy');
    await shows(rows.filter({ hasText: 'shipping' }), shippingSidecar.httpUrl);
    await shows(page.locator('.live'), 'live');
  }, STEP_MS);

  it('lists the instances with their counts per status', async () => {
    await page.goto(`${dashboardUrl}/workflows?app=orders`);
    await shows(page.getByTestId('count-COMPLETED'), '1');
    await shows(page.getByTestId('count-RUNNING'), '2');
    await shows(page.getByTestId('count-ALL'), '3');
    const list = page.locator('table.instances tbody');
    await shows(list, FANOUT);
    for (const id of [APPROVAL, FOREVER]) await shows(list, id);
    await page.screenshot({ path: path.join(SHOTS, 'workflows.png') });
    // The status filter is in the URL: a shared link opens the same view.
    await page.getByTestId('count-RUNNING').click();
    await until('the filtered list', async () => page.url(), (u) => u.includes('status=RUNNING'));
    await until('two running rows', async () => page.locator('table.instances tbody tr').count(), (n) => n === 2);
  }, STEP_MS);

  it("shows a fan-out's timeline with every activity's input and output", async () => {
    await page.goto(`${dashboardUrl}/workflows?app=orders`);
    await page.getByRole('link', { name: FANOUT }).click();
    await shows(page.getByTestId('instance-status'), 'COMPLETED');
    const activities = page.locator('table.timeline tr[data-step="activity"]');
    await until('four activity rows', () => activities.count(), (n) => n === ITEMS.length);
    const text = (await page.locator('table.timeline').textContent()) ?? '';
    for (const item of ITEMS) {
      expect(text).toContain(JSON.stringify(item));
      expect(text).toContain(JSON.stringify({ sku: item.sku, total: item.qty * 10 }));
    }
    await shows(page.getByLabel('workflow output'), '"total":110');
    await page.screenshot({ path: path.join(SHOTS, 'workflow-instance.png'), fullPage: true });
  }, STEP_MS);

  it('completes a waiting instance by raising an event with a JSON payload', async () => {
    await page.goto(`${dashboardUrl}/workflows/orders/${APPROVAL}`);
    await shows(page.getByTestId('instance-status'), 'RUNNING');
    await page.getByLabel('Event name').fill('approval');
    await page.getByLabel('JSON payload').fill('not json');
    await page.getByRole('button', { name: 'Raise event' }).click();
    await shows(page.getByRole('alert'), 'not valid JSON');
    await page.getByLabel('JSON payload').fill('{"approved": true, "by": "ana"}');
    await page.getByRole('button', { name: 'Raise event' }).click();
    await shows(page.getByTestId('instance-status'), 'COMPLETED');
    await shows(page.getByLabel('workflow output'), '"by":"ana"');
    await shows(page.locator('table.timeline'), 'approval');
  }, STEP_MS);

  it('terminates a running instance', async () => {
    await page.goto(`${dashboardUrl}/workflows/orders/${FOREVER}`);
    await shows(page.getByTestId('instance-status'), 'RUNNING');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Terminate', exact: true }).click();
    await shows(page.getByTestId('instance-status'), 'TERMINATED');
    const api = await json<{ runtimeStatus: string }>(`${workflowSidecar.httpUrl}/v1.0/workflows/dapr/${FOREVER}`);
    expect(api.runtimeStatus).toBe('TERMINATED');
  }, STEP_MS);

  it('reruns a finished fan-out from one activity with an edited input, and opens the new instance', async () => {
    await page.goto(`${dashboardUrl}/workflows/orders/${FANOUT}`);
    await shows(page.getByTestId('instance-status'), 'COMPLETED');
    const pear = page.locator('table.timeline tr[data-step="activity"]').filter({ hasText: '"sku":"pear"' });
    await pear.getByRole('button', { name: /Rerun from priceItem/ }).click();
    const form = page.getByRole('form', { name: 'Rerun from a step' });
    const input = form.getByLabel('Input of priceItem (JSON)');
    // The editor starts from what the step was called with.
    expect(JSON.parse(await input.inputValue())).toEqual({ sku: 'pear', qty: 3 });
    await input.fill('{"sku": "pear", "qty": }');
    await form.getByRole('button', { name: 'Rerun' }).click();
    await shows(form.getByRole('alert'), 'not valid JSON');
    await input.fill('{"sku": "pear", "qty": 30}');
    await form.getByLabel('New instance id (optional)').fill(`${FANOUT}-rerun`);
    await form.getByRole('button', { name: 'Rerun' }).click();
    await until('the new instance page', async () => page.url(), (u) => u.endsWith(`/workflows/orders/${FANOUT}-rerun`));
    await shows(page.getByTestId('instance-id'), `${FANOUT}-rerun`);
    await shows(page.getByTestId('instance-status'), 'COMPLETED');
    // 2×10 + 30×10 + 1×10 + 5×10: only the edited step's result changed.
    await shows(page.getByLabel('workflow output'), '"total":380');
    await shows(page.locator('table.timeline'), '{"sku":"pear","total":300}');
    const api = await json<{ properties: Record<string, string> }>(`${workflowSidecar.httpUrl}/v1.0/workflows/dapr/${FANOUT}-rerun`);
    expect(JSON.parse(api.properties['dapr.workflow.output'] ?? '{}')).toEqual({ lines: 4, total: 380 });
    // The source is unchanged.
    const source = await json<{ properties: Record<string, string> }>(`${workflowSidecar.httpUrl}/v1.0/workflows/dapr/${FANOUT}`);
    expect(JSON.parse(source.properties['dapr.workflow.output'] ?? '{}')).toEqual({ lines: 4, total: 110 });
  }, STEP_MS);

  it('shows a dead-lettered event and replays it to its topic', async () => {
    const publish = (data: unknown) =>
      fetch(`${shippingSidecar.httpUrl}/v1.0/publish/pubsub/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
    expect((await publish({ orderId: `good-${suffix}` })).status).toBe(204);
    expect((await publish({ orderId: `bad-${suffix}`, bad: true })).status).toBe(204);
    await page.goto(`${dashboardUrl}/pubsub?app=shipping`);
    const deadRow = page.locator('table.deadletters tbody tr').filter({ hasText: `bad-${suffix}` });
    await shows(deadRow, 'orders-dead');
    await shows(page.locator('table.tail'), 'deadlettered');
    await shows(page.locator('table.tail tr[data-outcome="success"]'), `good-${suffix}`);
    await deadRow.getByRole('button', { name: 'Replay' }).click();
    await shows(page.getByRole('status').filter({ hasText: 'Replayed' }), 'Replayed to orders');
    await shows(page.locator('table.tail tr[data-outcome="success"]').filter({ hasText: `bad-${suffix}` }), `bad-${suffix}`);
    // The app handled the replayed event: its state has the shipment.
    const shipped = await until(
      'the replayed shipment in state',
      async () => (await fetch(`${shippingSidecar.httpUrl}/v1.0/state/statestore/shipment-bad-${suffix}`)).text(),
      (t) => t !== '',
    );
    expect(JSON.parse(shipped)).toEqual({ orderId: `bad-${suffix}`, shipped: true });
    await page.screenshot({ path: path.join(SHOTS, 'pubsub.png'), fullPage: true });
  }, STEP_MS);

  it('edits a state value with its ETag and refuses a stale edit', async () => {
    await page.goto(`${dashboardUrl}/state?app=shipping&prefix=order-`);
    await shows(page.locator('table.keys'), 'order-2');
    await page.getByRole('button', { name: 'order-1' }).click();
    await until('the ETag', async () => (await page.getByTestId('etag').textContent({ timeout: 1000 })) ?? '', (t) => t.length > 0);
    const editor = page.getByLabel('Value', { exact: true });
    await until('the value in the editor', () => editor.inputValue(), (v) => v.includes('"total":12'));
    await editor.fill('{"total": 13, "currency": "EUR"}');
    await page.getByRole('button', { name: /^Save/ }).click();
    await shows(page.getByRole('status').filter({ hasText: 'Saved' }), 'Saved');
    const current = await fetch(`${shippingSidecar.httpUrl}/v1.0/state/statestore/order-1`);
    expect(await current.json()).toEqual({ total: 13, currency: 'EUR' });
    // After saving, the page reloads the value and holds the new ETag.
    await until('the new ETag on the page', async () => (await page.getByTestId('etag').textContent()) ?? '', (t) => t === current.headers.get('etag'));

    // Someone else writes the key; the page still holds the old ETag.
    const other = await fetch(`${shippingSidecar.httpUrl}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'order-1', value: { total: 99, currency: 'EUR' } }]),
    });
    expect(other.status).toBe(204);
    await editor.fill('{"total": 14, "currency": "EUR"}');
    await page.getByRole('button', { name: /^Save/ }).click();
    await shows(page.getByTestId('conflict'), 'the value changed since you loaded it');
    await shows(page.getByTestId('current-value'), '"total":99');
    const after = await fetch(`${shippingSidecar.httpUrl}/v1.0/state/statestore/order-1`);
    expect(await after.json()).toEqual({ total: 99, currency: 'EUR' });
    await shows(page.locator('table.keys'), 'order-2');
    await page.screenshot({ path: path.join(SHOTS, 'state.png') });
  }, STEP_MS);

  it('shows the status × workflow-name health overview with its percentiles, and filters the list from it', async () => {
    await page.goto(`${dashboardUrl}/workflows?app=orders&window=15m`);
    const row = page.getByTestId('health-orderFanOut-COMPLETED');
    await shows(row, 'orderFanOut');
    // Instances, p50, p90, p99 and the slowest: a count and four durations.
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    expect(Number(cells[2])).toBeGreaterThanOrEqual(1);
    for (const d of cells.slice(3)) expect(d).toMatch(/^\d+(\.\d+)? (ms|s)$|min/);
    expect(await page.getByLabel('Health window').inputValue()).toBe('15m');
    await row.getByRole('button', { name: 'orderFanOut' }).click();
    await until('the list filtered to the row', async () => page.url(), (u) => u.includes('name=orderFanOut') && u.includes('status=COMPLETED'));
    await shows(page.locator('table.instances tbody'), FANOUT);
  }, STEP_MS);

  it('shows the components and subscriptions, and the dark theme', async () => {
    await page.goto(`${dashboardUrl}/components?app=shipping`);
    await shows(page.locator('main'), 'state.sqlite');
    await shows(page.locator('main'), 'orders-dead');
    await shows(page.getByTestId('configuration'), 'shipping-config');
    await shows(page.getByTestId('subscriptions'), 'programmatic');
    await page.getByTestId('subscriptions').locator('summary').first().click();
    await shows(page.getByLabel('Subscription orders YAML'), 'deadLetterTopic: orders-dead');
    await shows(page.getByTestId('access-control'), 'GET /health → allow');
    await shows(page.locator('section[aria-label="Resiliency"]'), 'No Resiliency resource applies');
    await page.screenshot({ path: path.join(SHOTS, 'components.png') });
    await page.goto(`${dashboardUrl}/workflows/orders/${FANOUT}`);
    await page.getByRole('button', { name: /dark theme/ }).click();
    await until('the dark theme', async () => (await page.locator('html').getAttribute('data-theme')) ?? '', (t) => t === 'dark');
    await shows(page.getByTestId('instance-status'), 'COMPLETED');
    await page.screenshot({ path: path.join(SHOTS, 'workflow-instance-dark.png') });
    await page.getByRole('button', { name: /light theme/ }).click();
  }, STEP_MS);

  it("charts each app's request, error, latency and workflow metrics", async () => {
    await page.goto(`${dashboardUrl}/metrics?app=orders`);
    await until('four charts', () => page.locator('figure.chart').count(), (n) => n === 4);
    await shows(page.locator('figure.chart').first(), 'requests');
    expect(await page.locator('figure.chart canvas').count()).toBe(4);
    await page.screenshot({ path: path.join(SHOTS, 'metrics.png') });
  }, STEP_MS);

  it('draws the system graph from the sidecars\' metrics: invocations, publishes and deliveries', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${workflowSidecar.httpUrl}/v1.0/invoke/shipping/method/health`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await page.goto(`${dashboardUrl}/apps`);
    const invoke = page.locator('[data-edge="app:orders->app:shipping"]');
    await shows(invoke, 'invoke', 60_000);
    await shows(invoke, 'p99');
    await shows(page.locator('[data-edge="app:shipping->topic:orders"]'), 'publish');
    await shows(page.locator('[data-edge="topic:orders->app:shipping"]'), 'deliver');
    await page.screenshot({ path: path.join(SHOTS, 'apps.png'), fullPage: true });
  }, STEP_MS);

  it('navigates between pages with the keyboard', async () => {
    await page.goto(`${dashboardUrl}/apps`);
    await shows(page.locator('main'), 'shipping');
    await page.keyboard.press('3');
    await until('the workflows page', async () => new URL(page.url()).pathname, (p) => p === '/workflows');
    await page.keyboard.press('5');
    await until('the state page', async () => new URL(page.url()).pathname, (p) => p === '/state');
  }, STEP_MS);
});

describe.skipIf(!runnable)('the dashboard beyond loopback', () => {
  let dir: string;
  let proc: ReturnType<typeof startGroup> | undefined;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-dashboard-token-'));
  });
  afterAll(async () => {
    await browser?.close();
    await killGroup(proc?.child, proc?.exited);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses to start on 0.0.0.0 without a token, and says why', async () => {
    const port = await freePort();
    const refused = startGroup([WEFT_BIN, 'dashboard', '--host', '0.0.0.0', '--port', String(port)], { WEFT_REGISTRY_DIR: dir, WEFT_DASHBOARD_TOKEN: '' }, dir);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('requires a token');
  }, STEP_MS);

  it('requires the token in the browser when bound beyond loopback', async () => {
    const port = await freePort();
    proc = startGroup([WEFT_BIN, 'dashboard', '--host', '0.0.0.0', '--port', String(port), '--token', 's3cret'], { WEFT_REGISTRY_DIR: dir }, dir);
    await until('the dashboard banner', async () => proc!.output(), (o) => o.includes('a token is required'));
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const denied = await page.goto(`http://127.0.0.1:${port}/apps`);
    expect(denied?.status()).toBe(401);
    await shows(page.locator('body'), 'Token required');
    expect((await fetch(`http://127.0.0.1:${port}/api/sidecars`)).status).toBe(401);
    await page.goto(`http://127.0.0.1:${port}/apps?token=s3cret`);
    await until('the token to leave the address bar', async () => page.url(), (u) => !u.includes('token='));
    await shows(page.locator('main'), 'No sidecars found');
  }, STEP_MS);
});
