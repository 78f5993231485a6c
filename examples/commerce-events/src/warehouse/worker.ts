/**
 * warehouse-worker (gRPC app, port 5005; default mode `all` as in the seed).
 * Events: a new order reserves stock; a failed or cancelled one releases it; a created fulfillment
 * confirms the reservations (`warehouse.reservation.confirmed`); a shipped one takes the stock.
 * Cron bindings: reservation expiry (every minute), stock-change detection (every 5 minutes), and
 * the daily summary.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { commonConfig, intFrom } from '../shared/config.js';
import { consumeOnce } from '../shared/consume.js';
import { migrate, now, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import type { Transaction } from 'kysely';
import { DEAD_LETTER_TOPICS, TOPICS, fulfillmentStatusChangedSchema, orderStatusChangedSchema } from '../shared/events.js';
import type { EventEnvelope } from '../shared/events.js';
import { MalformedEventError } from '../shared/event-bus.js';
import { enqueueEvent } from '../shared/outbox.js';
import { addDeadLetterSink, createWorkerContext, runWorker } from '../shared/worker.js';
import { confirmForFulfillment, fulfilReservations, releaseOrder, reserveOrder } from './reservations.js';
import { warehouseMigrations } from './schema.js';
import type { WarehouseTables } from './schema.js';

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<WarehouseTables>({ service: 'warehouse', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'warehouse', warehouseMigrations);
const ctx = createWorkerContext('warehouse-worker', db as unknown as Kysely<EventTables>, 'all', process.argv.slice(2), env);
const reservationTtlMs = intFrom(env, 'RESERVATION_TTL_MS', 30 * 60_000);
const lowStockThreshold = intFrom(env, 'LOW_STOCK_THRESHOLD', 5);
const deadLetterTopic = ctx.topic(DEAD_LETTER_TOPICS.warehouse);

async function onOrderStatusChanged(event: EventEnvelope): Promise<void> {
  const parsed = orderStatusChangedSchema.safeParse(event.data);
  if (!parsed.success) throw new MalformedEventError(`order status event ${event.event_id}: ${parsed.error.message}`);
  const data = parsed.data;
  await consumeOnce(db, 'warehouse-worker/orders.order.status_changed', TOPICS.orderStatusChanged, event, async (trx) => {
    if (data.status === 'pending_payment') {
      const reserved = await reserveOrder(trx, ctx.topic, data.order_id, data.items, reservationTtlMs);
      ctx.logger.info({ orderId: data.order_id, reserved }, 'reservation for new order');
    } else if (data.status === 'payment_failed' || data.status === 'cancelled') {
      const released = await releaseOrder(trx, ctx.topic, data.order_id, data.status);
      ctx.logger.info({ orderId: data.order_id, released }, 'reservations released');
    }
  });
  ctx.relay.kick();
}

async function onFulfillmentStatusChanged(event: EventEnvelope): Promise<void> {
  const parsed = fulfillmentStatusChangedSchema.safeParse(event.data);
  if (!parsed.success) throw new MalformedEventError(`fulfillment event ${event.event_id}: ${parsed.error.message}`);
  const data = parsed.data;
  await consumeOnce(db, 'warehouse-worker/fulfillment.status_changed', TOPICS.fulfillmentStatusChanged, event, async (trx) => {
    if (data.status === 'created') {
      const confirmed = await confirmForFulfillment(trx, ctx.topic, data.order_id, data.fulfillment_id);
      // No reservation yet (the order event is still on its way): retry until it has arrived.
      if (!confirmed && (await trx.selectFrom('reservations').select('id').where('order_id', '=', data.order_id).executeTakeFirst()) === undefined) {
        throw new Error(`order ${data.order_id} has no reservations yet`);
      }
      ctx.logger.info({ orderId: data.order_id, fulfillmentId: data.fulfillment_id, confirmed }, 'reservation confirmed for fulfillment');
    } else if (data.status === 'shipped') {
      await fulfilReservations(trx, ctx.topic, data.fulfillment_id);
    } else if (data.status === 'cancelled') {
      await releaseOrder(trx, ctx.topic, data.order_id, 'fulfillment cancelled');
    }
  });
  ctx.relay.kick();
}

/** Every minute: unpaid reservations past their time give their stock back. */
async function expireReservations(): Promise<void> {
  const due = await db.selectFrom('reservations').select('order_id').distinct().where('status', '=', 'active').where('expires_at', '<=', now()).limit(500).execute();
  for (const { order_id } of due) await db.transaction().execute((trx) => releaseOrder(trx, ctx.topic, order_id, 'reservation expired', 'expired'));
  ctx.relay.kick();
  ctx.logger.info({ expiredOrders: due.length }, 'reservation expiry');
}

/** Every 5 minutes: announce SKUs whose available stock changed since the last announcement. */
async function detectStockChanges(): Promise<void> {
  const changed = await db
    .selectFrom('inventory')
    .select(['sku', 'on_hand', 'reserved', 'reported_available'])
    .where((eb) => eb.or([eb('reported_available', 'is', null), eb('reported_available', '!=', sql<number>`on_hand - reserved`)]))
    .execute();
  if (changed.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const row of changed) await trx.updateTable('inventory').set({ reported_available: row.on_hand - row.reserved }).where('sku', '=', row.sku).execute();
    await enqueueEvent(trx as unknown as Transaction<EventTables>, ctx.topic(TOPICS.inventoryUpdated), TOPICS.inventoryUpdated, {
      reason: 'stock_changed',
      items: changed.map((r) => ({ sku: r.sku, available: r.on_hand - r.reserved, low_stock: r.on_hand - r.reserved <= lowStockThreshold })),
    });
  });
  ctx.relay.kick();
}

/** Daily: one summary row per day (re-running the same day overwrites it). */
async function dailySummary(): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  const count = async (status: string, column: 'created_at' | 'updated_at') =>
    Number((await db.selectFrom('reservations').select((eb) => eb.fn.countAll().as('n')).where('status', '=', status as never).where(column, '>=', day).executeTakeFirst())?.n ?? 0);
  const created = Number((await db.selectFrom('reservations').select((eb) => eb.fn.countAll().as('n')).where('created_at', '>=', day).executeTakeFirst())?.n ?? 0);
  const low = Number((await db.selectFrom('inventory').select((eb) => eb.fn.countAll().as('n')).where(sql<number>`on_hand - reserved`, '<=', lowStockThreshold).executeTakeFirst())?.n ?? 0);
  const row = {
    day,
    reservations_created: created,
    reservations_confirmed: await count('confirmed', 'updated_at'),
    reservations_released: await count('released', 'updated_at'),
    reservations_expired: await count('expired', 'updated_at'),
    low_stock_skus: low,
    created_at: now(),
  };
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('daily_summaries').where('day', '=', day).execute();
    await trx.insertInto('daily_summaries').values(row).execute();
  });
  ctx.logger.info(row, 'daily summary');
}

if (ctx.events) {
  const pubsub = ctx.config.pubsubName;
  ctx.bus.addConsumer(ctx.topic(TOPICS.orderStatusChanged), pubsub, onOrderStatusChanged, { deadLetterTopic });
  ctx.bus.addConsumer(ctx.topic(TOPICS.fulfillmentStatusChanged), pubsub, onFulfillmentStatusChanged, { deadLetterTopic });
  addDeadLetterSink(ctx, db as unknown as Kysely<EventTables>, deadLetterTopic);
}
if (ctx.cron) {
  ctx.bus.addBinding('warehouse-reservation-expiry', expireReservations);
  ctx.bus.addBinding('warehouse-stock-change-detector', detectStockChanges);
  ctx.bus.addBinding('warehouse-daily-summary', dailySummary);
}
await runWorker(ctx, db as unknown as Kysely<EventTables>);
