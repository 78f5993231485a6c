/**
 * The production backends together: every service on Postgres (one schema per service, unique to
 * the run) and the seed's pubsub-redis. Both flows end to end.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../test/support/services.js';
import { redisPubsub, resiliency } from './support/resources.js';
import type { Apis } from './support/shop.js';
import { dropStreams, fulfillments, inventory, orderWithStatus, placeReservedOrder, redisClient, reservations, setStock } from './support/shop.js';
import { Stack, eventually, paymentEvent, publish } from './support/stack.js';
import type { AppId } from './support/stack.js';

const run = (await requireService(SERVICES.redis, 'commerce-events on Postgres + Redis')) && (await requireService(SERVICES.postgres, 'commerce-events on Postgres + Redis'));
const PUBSUB = 'pubsub-redis';

describe.runIf(run)('commerce-events on Postgres and Redis', () => {
  let stack: Stack;
  let apis: Apis;
  const runId = `ce_${Math.random().toString(36).slice(2, 10)}`;
  const schemas = { order: `${runId}_order`, fulfillment: `${runId}_fulfillment`, warehouse: `${runId}_warehouse` };
  const start = (appId: AppId, args: string[] = []) => {
    const service = appId.split('-')[0] as keyof typeof schemas;
    return stack.start(appId, { args, env: { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schemas[service] } });
  };

  beforeAll(async () => {
    stack = new Stack({ 'pubsub.yaml': redisPubsub(), 'resiliency.yaml': resiliency() }, { PUBSUB_NAME: PUBSUB });
    const [order, fulfillment, warehouse] = await Promise.all([start('order-service'), start('fulfillment-service'), start('warehouse-service')]);
    apis = { order, fulfillment, warehouse };
    await Promise.all([start('order-worker', ['--mode', 'all']), start('fulfillment-worker'), start('warehouse-worker')]);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    const redis = redisClient();
    await dropStreams(redis, stack.topicPrefix);
    redis.disconnect();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    for (const schema of Object.values(schemas)) await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }, 60_000);

  it('keeps each service in its own schema', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_schema: string; table_name: string }>(
        `select table_schema, table_name from information_schema.tables where table_schema like $1 order by 1, 2`,
        [`${runId}%`],
      );
      const tables = (schema: string) => rows.filter((r) => r.table_schema === schema).map((r) => r.table_name);
      expect(tables(schemas.order)).toEqual(expect.arrayContaining(['orders', 'order_items', 'outbox', 'processed_events']));
      expect(tables(schemas.fulfillment)).toEqual(expect.arrayContaining(['fulfillments', 'outbox', 'processed_events']));
      expect(tables(schemas.warehouse)).toEqual(expect.arrayContaining(['inventory', 'reservations', 'outbox', 'processed_events']));
    } finally {
      await client.end();
    }
  }, 120_000);

  it('runs payment.confirmed through to the confirmed reservation, and payment.failed to the release', async () => {
    await setStock(apis, 'pg-sku', 6);
    const paidId = await placeReservedOrder(apis, [{ sku: 'pg-sku', quantity: 2 }]);
    const failedId = await placeReservedOrder(apis, [{ sku: 'pg-sku', quantity: 3 }]);
    expect(await inventory(apis, 'pg-sku')).toMatchObject({ reserved: 5, available: 1 });

    await publish(apis.order, PUBSUB, stack.topic('payment.confirmed'), paymentEvent('payment.confirmed', paidId));
    await publish(apis.order, PUBSUB, stack.topic('payment.failed'), paymentEvent('payment.failed', failedId));

    await orderWithStatus(apis, paidId, 'payment_confirmed');
    await orderWithStatus(apis, failedId, 'payment_failed');
    const bound = await eventually(async () => {
      const list = await reservations(apis, paidId);
      return list.every((r) => r.fulfillmentId !== null) ? list : undefined;
    }, 'the paid order bound to its fulfillment');
    expect(bound.map((r) => r.status)).toEqual(['confirmed']);
    expect((await fulfillments(apis, paidId)).map((f) => f.status)).toEqual(['created']);
    await eventually(async () => (await reservations(apis, failedId)).every((r) => r.status === 'released'), 'the failed order released');
    expect(await inventory(apis, 'pg-sku')).toMatchObject({ onHand: 6, reserved: 2, available: 4 });
  }, 120_000);
});
