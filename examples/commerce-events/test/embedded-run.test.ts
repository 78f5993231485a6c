/**
 * The one-command start: the example's own `weft.yaml` (six apps, embedded SQLite pub/sub and
 * databases) run with `weft run -f`, rewritten only to free ports and a temp folder, carries a paid
 * order through to the warehouse's confirmation.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN, freePort } from '../../../test/support/weft-process.js';
import { EXAMPLE_DIR, eventually, http, paymentEvent } from './support/stack.js';

interface RunFileApp {
  appID: string;
  appDirPath: string;
  appPort: number;
  appProtocol?: string;
  command: string[];
  daprHTTPPort?: number;
  env?: Record<string, string>;
}

describe('weft run -f examples/commerce-events (embedded default)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commerce-run-'));
  let child: ChildProcess;
  let output = '';
  const ports = new Map<string, { app: number; http: number }>();

  beforeAll(async () => {
    const runFile = parse(fs.readFileSync(path.join(EXAMPLE_DIR, 'weft.yaml'), 'utf8')) as {
      common: { resourcesPaths: string[]; env: Record<string, string> };
      apps: RunFileApp[];
    };
    // The embedded pub/sub names a file relative to the example; give it one in the temp folder.
    const resources = path.join(dir, 'embedded');
    fs.mkdirSync(resources);
    fs.writeFileSync(
      path.join(resources, 'pubsub.yaml'),
      fs.readFileSync(path.join(EXAMPLE_DIR, 'resources/embedded/pubsub.yaml'), 'utf8').replace('.data/pubsub.sqlite', path.join(dir, 'pubsub.sqlite')),
    );
    runFile.common.resourcesPaths = [path.join(EXAMPLE_DIR, 'resources/common'), resources];
    runFile.common.env = { ...runFile.common.env, DATA_DIR: path.join(dir, 'data'), OUTBOX_INTERVAL_MS: '500' };
    for (const app of runFile.apps) {
      const p = { app: await freePort(), http: await freePort() };
      ports.set(app.appID, p);
      app.appDirPath = EXAMPLE_DIR;
      app.appPort = p.app;
      app.daprHTTPPort = p.http;
    }
    const file = path.join(dir, 'weft.yaml');
    fs.writeFileSync(file, stringify(runFile));
    child = spawn(process.execPath, [WEFT_BIN, 'run', '-f', file], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') },
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`weft run -f exited with ${child.exitCode}`);
      const checks = await Promise.all(
        ['order-service', 'fulfillment-service', 'warehouse-service'].map(async (id) => (await fetch(`http://127.0.0.1:${ports.get(id)?.app}/health`).catch(() => undefined))?.status === 200),
      );
      return checks.every(Boolean) && (output.match(/"msg":"worker running"/g) ?? []).length === 3;
    }, 'the six apps', 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  }, 240_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const closed = new Promise((resolve) => child.once('close', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await closed;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs the payment.confirmed flow on the embedded pub/sub', async () => {
    const api = (id: string) => `http://127.0.0.1:${ports.get(id)?.app}`;
    await http(`${api('warehouse-service')}/v1/inventory/sku-1`, 'PUT', { onHand: 3 });
    const created = await http<{ id: string }>(`${api('order-service')}/v1/orders`, 'POST', { customerId: 'c-9', items: [{ sku: 'sku-1', quantity: 2, unitPriceCents: 250 }] });
    await eventually(async () => (await http<{ reservations: unknown[] }>(`${api('warehouse-service')}/v1/reservations?orderId=${created.id}`)).reservations.length === 1, 'the reservation');

    const res = await fetch(`http://127.0.0.1:${ports.get('order-service')?.http}/v1.0/publish/pubsub/payment.confirmed`, {
      method: 'POST',
      body: JSON.stringify(paymentEvent('payment.confirmed', created.id)),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(204);

    await eventually(async () => (await http<{ status: string }>(`${api('order-service')}/v1/orders/${created.id}`)).status === 'payment_confirmed', 'the paid order');
    const reservations = await eventually(async () => {
      const list = (await http<{ reservations: { status: string; fulfillmentId: string | null }[] }>(`${api('warehouse-service')}/v1/reservations?orderId=${created.id}`)).reservations;
      return list.every((r) => r.fulfillmentId) ? list : undefined;
    }, 'the reservation bound to a fulfillment');
    expect(reservations.map((r) => r.status)).toEqual(['confirmed']);
    const { fulfillments } = await http<{ fulfillments: { status: string }[] }>(`${api('fulfillment-service')}/v1/fulfillments?orderId=${created.id}`);
    expect(fulfillments.map((f) => f.status)).toEqual(['created']);
  }, 120_000);
});
