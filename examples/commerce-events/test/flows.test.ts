/**
 * The seed's two flows end to end on real Redis (the seed's `pubsub-redis`), through six real `weft
 * run` processes: payment confirmed → order → fulfillment → warehouse reservation confirmed, and
 * payment failed → order → reservations released; duplicates change nothing; retries; dead letters.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, requireService } from '../../../test/support/services.js';
import { redisPubsub, resiliency } from './support/resources.js';
import type { Apis } from './support/shop.js';
import { deadLetters, dropStreams, fulfillments, inventory, order, orderWithStatus, placeReservedOrder, redisClient, reservations, setStock, streamEvents } from './support/shop.js';
import { Stack, eventually, paymentEvent, publish } from './support/stack.js';
import type { RunningApp } from './support/stack.js';

const run = await requireService(SERVICES.redis, 'commerce-events flows on Redis');
const PUBSUB = 'pubsub-redis';

describe.runIf(run)('commerce-events on Redis pub/sub', () => {
  let stack: Stack;
  let apis: Apis;
  let orderWorker: RunningApp;
  let redis: Redis;

  beforeAll(async () => {
    stack = new Stack({ 'pubsub.yaml': redisPubsub(), 'resiliency.yaml': resiliency() }, { PUBSUB_NAME: PUBSUB });
    redis = redisClient();
    const [order, fulfillment, warehouse] = await Promise.all([stack.start('order-service'), stack.start('fulfillment-service'), stack.start('warehouse-service')]);
    apis = { order, fulfillment, warehouse };
    [orderWorker] = await Promise.all([
      stack.start('order-worker', { args: ['--mode', 'event'] }),
      stack.start('fulfillment-worker'),
      stack.start('warehouse-worker', { args: ['--mode', 'event'] }),
    ]);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (redis) {
      await dropStreams(redis, stack.topicPrefix);
      redis.disconnect();
    }
  }, 60_000);

  it('payment.confirmed: the order is paid, a fulfillment is created and the warehouse confirms the reservation', async () => {
    await setStock(apis, 'sku-blue', 10);
    await setStock(apis, 'sku-red', 4);
    const orderId = await placeReservedOrder(apis, [{ sku: 'sku-blue', quantity: 2 }, { sku: 'sku-red', quantity: 1 }]);
    expect((await reservations(apis, orderId)).map((r) => r.status)).toEqual(['active', 'active']);
    expect(await inventory(apis, 'sku-blue')).toMatchObject({ onHand: 10, reserved: 2, available: 8 });

    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), paymentEvent('payment.confirmed', orderId));

    const paid = await orderWithStatus(apis, orderId, 'payment_confirmed');
    // The order worker confirmed the reservations by invoking warehouse-service through its sidecar's gRPC API.
    const calls = apis.warehouse.logs('incoming request').map((l) => (l['req'] as { url?: string; method?: string } | undefined) ?? {});
    expect(calls).toContainEqual(expect.objectContaining({ method: 'POST', url: '/v1/reservations/confirm' }));
    expect(paid.history.map((h) => h.to)).toEqual(['pending_payment', 'payment_confirmed']);
    const [fulfillment] = await eventually(async () => {
      const list = await fulfillments(apis, orderId);
      return list.length > 0 ? list : undefined;
    }, 'the fulfillment');
    expect(fulfillment?.status).toBe('created');
    const confirmed = await eventually(async () => {
      const list = await reservations(apis, orderId);
      return list.every((r) => r.fulfillmentId === fulfillment?.id) ? list : undefined;
    }, 'reservations bound to the fulfillment');
    expect(confirmed.map((r) => r.status)).toEqual(['confirmed', 'confirmed']);
    const announced = await eventually(async () => {
      const events = (await streamEvents(redis, stack.topic('warehouse.reservation.confirmed'))).filter((e) => e.data['order_id'] === orderId);
      return events.length > 0 ? events : undefined;
    }, 'warehouse.reservation.confirmed');
    expect(announced[0]?.data).toMatchObject({ order_id: orderId, fulfillment_id: fulfillment?.id });
    const statusEvents = (await streamEvents(redis, stack.topic('orders.order.status_changed'))).filter((e) => e.data['order_id'] === orderId);
    expect(statusEvents.map((e) => e.data['status'])).toEqual(['pending_payment', 'payment_confirmed']);
  }, 120_000);

  it('payment.failed: the order fails and its reservations are released', async () => {
    await setStock(apis, 'sku-green', 5);
    const orderId = await placeReservedOrder(apis, [{ sku: 'sku-green', quantity: 3 }]);
    expect(await inventory(apis, 'sku-green')).toMatchObject({ reserved: 3, available: 2 });

    await publish(apis.order, PUBSUB, stack.topic('payment.failed'), paymentEvent('payment.failed', orderId));

    await orderWithStatus(apis, orderId, 'payment_failed');
    await eventually(async () => (await reservations(apis, orderId)).every((r) => r.status === 'released'), 'released reservations');
    expect(await inventory(apis, 'sku-green')).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    const released = await eventually(async () => {
      const events = (await streamEvents(redis, stack.topic('warehouse.reservation.released'))).filter((e) => e.data['order_id'] === orderId);
      return events.length > 0 ? events : undefined;
    }, 'warehouse.reservation.released');
    // Released once, although both the invocation and the status event ask for it.
    expect(released).toHaveLength(1);
    expect(await fulfillments(apis, orderId)).toEqual([]);
  }, 120_000);

  it('a duplicate delivery changes nothing: the same payment and order events twice', async () => {
    await setStock(apis, 'sku-dup', 10);
    const orderId = await placeReservedOrder(apis, [{ sku: 'sku-dup', quantity: 1 }]);
    const payment = paymentEvent('payment.confirmed', orderId);
    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), payment);
    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), payment);
    // Redeliver the order's first status event too, exactly as it was published.
    const placed = (await streamEvents(redis, stack.topic('orders.order.status_changed'))).find((e) => e.data['order_id'] === orderId && e.data['status'] === 'pending_payment');
    expect(placed).toBeDefined();
    await publish(apis.order, PUBSUB, stack.topic('orders.order.status_changed'), placed);

    await orderWithStatus(apis, orderId, 'payment_confirmed');
    // Both copies of each event are handled (or found duplicate) before we look.
    await eventually(async () => orderWorker.logs('event handled').filter((l) => l['eventId'] === payment.event_id).length === 2, 'both deliveries of the payment event');
    await eventually(async () => (await reservations(apis, orderId)).every((r) => r.fulfillmentId !== null), 'the reservation bound to the fulfillment');
    const o = await order(apis, orderId);
    expect(o.history.filter((h) => h.to === 'payment_confirmed')).toHaveLength(1);
    expect(await fulfillments(apis, orderId)).toHaveLength(1);
    expect(await reservations(apis, orderId)).toHaveLength(1);
    expect(await inventory(apis, 'sku-dup')).toMatchObject({ onHand: 10, reserved: 1 });
    const statusEvents = (await streamEvents(redis, stack.topic('orders.order.status_changed'))).filter((e) => e.data['order_id'] === orderId);
    // The redelivered copy is on the stream; there is still one event per change.
    expect(statusEvents.map((e) => e.data['status']).sort()).toEqual(['payment_confirmed', 'pending_payment', 'pending_payment']);
    expect(new Set(statusEvents.map((e) => e.event_id)).size).toBe(2);
    expect((await streamEvents(redis, stack.topic('fulfillment.status_changed'))).filter((e) => e.data['order_id'] === orderId)).toHaveLength(1);
  }, 120_000);

  it('a handler that fails twice is retried by the sidecar and then succeeds', async () => {
    await setStock(apis, 'sku-retry', 3);
    const orderId = await placeReservedOrder(apis, [{ sku: 'sku-retry', quantity: 1 }]);
    const payment = paymentEvent('payment.confirmed', orderId, { fail_times: '2' });
    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), payment);

    await orderWithStatus(apis, orderId, 'payment_confirmed');
    const failures = orderWorker.logs('handler failed; asking for a retry').filter((l) => l['eventId'] === payment.event_id);
    expect(failures.map((l) => l['err'])).toEqual(['injected fault 1 of 2', 'injected fault 2 of 2']);
    expect(orderWorker.logs('event handled').filter((l) => l['eventId'] === payment.event_id)).toHaveLength(1);
    expect(await deadLetters(apis.order)).not.toContainEqual(expect.objectContaining({ id: payment.event_id }));
  }, 120_000);

  it('a poison event lands in the dead-letter topic after the retries, and a malformed one at once', async () => {
    const poison = paymentEvent('payment.confirmed', 'no-such-order');
    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), poison);
    const parked = await eventually(async () => (await deadLetters(apis.order)).find((d) => d.id === poison.event_id), 'the poison event in dead_letters');
    expect(parked.topic).toBe(stack.topic('orders.dead_letter'));
    expect(parked.payload).toMatchObject({ event_id: poison.event_id, data: { order_id: 'no-such-order' } });
    // First delivery plus the policy's three retries.
    expect(orderWorker.logs('handler failed; asking for a retry').filter((l) => l['eventId'] === poison.event_id)).toHaveLength(4);
    const dead = await streamEvents(redis, stack.topic('orders.dead_letter'));
    expect(dead.map((e) => e.event_id)).toContain(poison.event_id);

    await publish(apis.order, PUBSUB, stack.topic('payment.failed'), { hello: 'not an envelope' });
    await eventually(async () => (await deadLetters(apis.order)).some((d) => JSON.stringify(d.payload) === JSON.stringify({ hello: 'not an envelope' })), 'the malformed event in dead_letters');
  }, 120_000);
});
