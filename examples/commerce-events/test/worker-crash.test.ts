/**
 * A worker killed mid-stream loses no event: the order worker (sidecar and app, SIGKILL) dies while
 * payment events are being handled; a new one takes over the unacknowledged messages (Redis Streams
 * pending entries, reclaimed after `processingTimeout`) and every order ends paid exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, requireService } from '../../../test/support/services.js';
import { redisPubsub, resiliency } from './support/resources.js';
import type { Apis } from './support/shop.js';
import { dropStreams, fulfillments, order, orderWithStatus, placeReservedOrder, redisClient, setStock } from './support/shop.js';
import { Stack, eventually, paymentEvent, publish } from './support/stack.js';

const run = await requireService(SERVICES.redis, 'commerce-events worker crash on Redis');
const PUBSUB = 'pubsub-redis';
const ORDERS = 12;

describe.runIf(run)('a worker killed mid-stream', () => {
  let stack: Stack;
  let apis: Apis;

  beforeAll(async () => {
    stack = new Stack({ 'pubsub.yaml': redisPubsub(), 'resiliency.yaml': resiliency() }, { PUBSUB_NAME: PUBSUB });
    const [order, fulfillment, warehouse] = await Promise.all([stack.start('order-service'), stack.start('fulfillment-service'), stack.start('warehouse-service')]);
    apis = { order, fulfillment, warehouse };
    await Promise.all([stack.start('fulfillment-worker'), stack.start('warehouse-worker', { args: ['--mode', 'event'] })]);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    const redis = redisClient();
    await dropStreams(redis, stack.topicPrefix);
    redis.disconnect();
  }, 60_000);

  it('loses no payment event when the order worker is SIGKILLed and replaced', async () => {
    await setStock(apis, 'sku-crash', ORDERS * 2);
    const ids: string[] = [];
    for (let i = 0; i < ORDERS; i++) ids.push(await placeReservedOrder(apis, [{ sku: 'sku-crash', quantity: 1 }]));

    // A slow worker (250 ms per event), so the kill lands in the middle of the stream.
    const slow = { WORKER_HANDLER_DELAY_MS: '250' };
    const first = await stack.start('order-worker', { args: ['--mode', 'event'], env: slow });
    for (const id of ids) await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), paymentEvent('payment.confirmed', id));
    await eventually(async () => first.logs('event handled').length >= 2, 'the first events to be handled');
    await first.kill('SIGKILL');

    const statuses = await Promise.all(ids.map(async (id) => (await order(apis, id)).status));
    const paidAtKill = statuses.filter((s) => s === 'payment_confirmed').length;
    expect(paidAtKill).toBeLessThan(ORDERS);

    await stack.start('order-worker', { args: ['--mode', 'event'] });
    for (const id of ids) {
      const paid = await orderWithStatus(apis, id, 'payment_confirmed', 120_000);
      expect(paid.history.filter((h) => h.to === 'payment_confirmed')).toHaveLength(1);
    }
    for (const id of ids) await eventually(async () => (await fulfillments(apis, id)).length === 1, `the fulfillment of ${id}`);
  }, 300_000);
});
