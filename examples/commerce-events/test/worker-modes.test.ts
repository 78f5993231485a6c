/**
 * `--mode cron|event|all`: each mode starts only its half. Checked three ways per worker: what it
 * says it registered, the subscriptions its sidecar reports, and whether its cron bindings fire
 * (every second here). Runs on the embedded pub/sub, so it needs no service.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cronBindings, embeddedPubsub, resiliency } from './support/resources.js';
import { Stack, eventually, http } from './support/stack.js';
import type { AppId, RunningApp } from './support/stack.js';

const ORDER_TOPICS = ['payment.confirmed', 'payment.failed', 'orders.dead_letter'];
const ORDER_BINDINGS = ['order-cod-auto-confirm', 'order-unpaid-cleanup'];

describe('worker modes', () => {
  let stack: Stack;
  const pubsubFile = path.join(os.tmpdir(), `commerce-modes-${process.pid}-${Date.now()}.sqlite`);
  const workers = new Map<string, RunningApp>();

  const subscribedTopics = async (app: RunningApp) =>
    (await http<{ subscriptions: { topic: string }[] }>(`http://127.0.0.1:${app.httpPort}/v1.0/metadata`)).subscriptions.map((s) => s.topic).sort();
  const jobsDone = (app: RunningApp) => app.logs('scheduled job done').map((l) => String(l['binding']));
  const running = (app: RunningApp) => app.logs('worker running')[0] as { mode: string; topics: string[]; bindings: string[] };

  beforeAll(async () => {
    stack = new Stack({ 'pubsub.yaml': embeddedPubsub(pubsubFile), 'resiliency.yaml': resiliency(), 'cron.yaml': cronBindings() }, { PUBSUB_NAME: 'pubsub' });
    const start = async (name: string, appId: AppId, args: string[]) => workers.set(name, await stack.start(appId, { args }));
    await Promise.all([start('order:cron', 'order-worker', ['--mode', 'cron']), start('order:event', 'order-worker', ['--mode', 'event']), start('order:all', 'order-worker', ['--mode', 'all'])]);
    await Promise.all([start('order:default', 'order-worker', []), start('fulfillment:default', 'fulfillment-worker', []), start('warehouse:default', 'warehouse-worker', [])]);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${pubsubFile}${suffix}`, { force: true });
  }, 60_000);

  const worker = (name: string): RunningApp => {
    const app = workers.get(name);
    if (!app) throw new Error(`${name} did not start`);
    return app;
  };

  it('cron mode registers the cron bindings only, and they fire', async () => {
    const app = worker('order:cron');
    expect(running(app)).toMatchObject({ mode: 'cron', topics: [], bindings: ORDER_BINDINGS });
    expect(await subscribedTopics(app)).toEqual([]);
    await eventually(async () => ORDER_BINDINGS.every((b) => jobsDone(app).includes(b)), 'both order cron jobs to run');
  }, 120_000);

  it('event mode registers the consumers only; its cron bindings never reach it', async () => {
    const app = worker('order:event');
    expect(running(app)).toMatchObject({ mode: 'event', bindings: [], topics: ORDER_TOPICS.map((t) => stack.topic(t)) });
    expect(await subscribedTopics(app)).toEqual(ORDER_TOPICS.map((t) => stack.topic(t)).sort());
    // The cron-mode worker, started with it on the same every-second schedule, has run its jobs twice by now.
    await eventually(async () => jobsDone(worker('order:cron')).filter((b) => b === 'order-cod-auto-confirm').length >= 2, 'two cron ticks elsewhere');
    expect(jobsDone(app)).toEqual([]);
  }, 120_000);

  it('all mode registers both, and the cron jobs fire', async () => {
    const app = worker('order:all');
    expect(running(app)).toMatchObject({ mode: 'all', bindings: ORDER_BINDINGS, topics: ORDER_TOPICS.map((t) => stack.topic(t)) });
    expect(await subscribedTopics(app)).toEqual(ORDER_TOPICS.map((t) => stack.topic(t)).sort());
    await eventually(async () => ORDER_BINDINGS.every((b) => jobsDone(app).includes(b)), 'both order cron jobs to run');
  }, 120_000);

  it("each worker's default mode is the seed's: order cron, fulfillment event, warehouse all", async () => {
    expect(running(worker('order:default')).mode).toBe('cron');
    expect(await subscribedTopics(worker('order:default'))).toEqual([]);

    const fulfillment = worker('fulfillment:default');
    expect(running(fulfillment)).toMatchObject({ mode: 'event', bindings: [] });
    expect(await subscribedTopics(fulfillment)).toEqual([stack.topic('fulfillment.dead_letter'), stack.topic('orders.order.status_changed')].sort());

    const warehouse = worker('warehouse:default');
    expect(running(warehouse)).toMatchObject({ mode: 'all', bindings: ['warehouse-reservation-expiry', 'warehouse-stock-change-detector', 'warehouse-daily-summary'] });
    expect(await subscribedTopics(warehouse)).toEqual(
      [stack.topic('orders.order.status_changed'), stack.topic('fulfillment.status_changed'), stack.topic('warehouse.dead_letter')].sort(),
    );
    await eventually(async () => ['warehouse-reservation-expiry', 'warehouse-stock-change-detector', 'warehouse-daily-summary'].every((b) => jobsDone(warehouse).includes(b)), 'the warehouse cron jobs to run');
  }, 120_000);
});
