/**
 * order-worker (gRPC app, the seed's port 5005; default mode `cron` as in the seed, `all` in our run
 * file and manifests). Events: `payment.confirmed` and `payment.failed` move the order and confirm or
 * release the warehouse reservations through service invocation of `warehouse-service` over Dapr's
 * gRPC API. Cron bindings: COD auto-confirm (every 5 minutes) and unpaid-order cleanup (hourly).
 */
import type { DaprClient } from '@dapr/dapr';
import { HttpMethod } from '@dapr/dapr';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { intFrom } from '../shared/config.js';
import { consumeOnce } from '../shared/consume.js';
import { migrate, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { commonConfig } from '../shared/config.js';
import { DEAD_LETTER_TOPICS, TOPICS, paymentEventSchema } from '../shared/events.js';
import type { EventEnvelope } from '../shared/events.js';
import { MalformedEventError } from '../shared/event-bus.js';
import { HttpError } from '../shared/http.js';
import { addDeadLetterSink, createWorkerContext, runWorker } from '../shared/worker.js';
import { changeOrderStatus } from './orders.js';
import { orderMigrations } from './schema.js';
import type { OrderTables } from './schema.js';

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<OrderTables>({ service: 'order', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'order', orderMigrations);
const ctx = createWorkerContext('order-worker', db as unknown as Kysely<EventTables>, 'cron', process.argv.slice(2), env);
const warehouseAppId = env['WAREHOUSE_APP_ID'] || 'warehouse-service';
const codConfirmAfterMs = intFrom(env, 'COD_CONFIRM_AFTER_MS', 5 * 60_000);
const unpaidTimeoutMs = intFrom(env, 'UNPAID_ORDER_TIMEOUT_MS', 24 * 3600_000);
const deadLetterTopic = ctx.topic(DEAD_LETTER_TOPICS.order);

/**
 * Calls `warehouse-service` through the sidecar's gRPC API (`InvokeService`). The SDK hands back the
 * body of an error answer as data, so `{ error }` bodies are turned into exceptions here.
 */
async function callWarehouse(client: DaprClient, method: string, body: object): Promise<unknown> {
  const result = (await client.invoker.invoke(warehouseAppId, method, HttpMethod.POST, body)) as { error?: { code?: string; message?: string } } | undefined;
  if (result && typeof result === 'object' && result.error) throw new Error(`warehouse ${method}: ${result.error.code ?? 'ERROR'} ${result.error.message ?? ''}`);
  return result;
}

function payment(event: EventEnvelope) {
  const parsed = paymentEventSchema.safeParse(event.data);
  if (!parsed.success) throw new MalformedEventError(`payment event ${event.event_id}: ${parsed.error.message}`);
  return parsed.data;
}

async function alreadyProcessed(consumer: string, eventId: string): Promise<boolean> {
  return !!(await db.selectFrom('processed_events').select('event_id').where('consumer', '=', consumer).where('event_id', '=', eventId).executeTakeFirst());
}

/** `payment.confirmed` → reservations confirmed (gRPC invocation) → order `payment_confirmed`. */
async function onPaymentConfirmed(event: EventEnvelope): Promise<void> {
  const consumer = 'order-worker/payment.confirmed';
  if (await alreadyProcessed(consumer, event.event_id)) return;
  const data = payment(event);
  const order = await db.selectFrom('orders').select(['status']).where('id', '=', data.order_id).executeTakeFirst();
  // Unknown order: maybe the order is not committed yet; retried, then dead-lettered.
  if (!order) throw new Error(`order ${data.order_id} does not exist`);
  if (order.status === 'pending_payment' || order.status === 'payment_failed') {
    await callWarehouse(ctx.bus.client, 'v1/reservations/confirm', { orderId: data.order_id });
  }
  await consumeOnce(db, consumer, TOPICS.paymentConfirmed, event, async (trx) => {
    try {
      await changeOrderStatus(trx, ctx.topic, data.order_id, 'payment_confirmed', `payment ${data.payment_id} confirmed`, { paymentId: data.payment_id });
    } catch (err) {
      // A confirmation for a cancelled order changes nothing; it is recorded as processed.
      if (err instanceof HttpError && err.status === 409) ctx.logger.warn({ orderId: data.order_id, reason: err.message }, 'payment confirmation ignored');
      else throw err;
    }
  });
  ctx.relay.kick();
}

/** `payment.failed` → order `payment_failed` → reservations released (gRPC invocation). */
async function onPaymentFailed(event: EventEnvelope): Promise<void> {
  const consumer = 'order-worker/payment.failed';
  if (await alreadyProcessed(consumer, event.event_id)) return;
  const data = payment(event);
  const order = await db.selectFrom('orders').select(['status']).where('id', '=', data.order_id).executeTakeFirst();
  if (!order) throw new Error(`order ${data.order_id} does not exist`);
  let changed = false;
  await consumeOnce(db, consumer, TOPICS.paymentFailed, event, async (trx) => {
    try {
      changed = await changeOrderStatus(trx, ctx.topic, data.order_id, 'payment_failed', data.reason ?? `payment ${data.payment_id} failed`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) ctx.logger.warn({ orderId: data.order_id, reason: err.message }, 'payment failure ignored');
      else throw err;
    }
  });
  ctx.relay.kick();
  // After the commit: a failed call here is repaired by the warehouse worker, which also releases
  // on the `payment_failed` status event, and by reservation expiry.
  if (changed) {
    await callWarehouse(ctx.bus.client, 'v1/reservations/release', { orderId: data.order_id, reason: 'payment_failed' }).catch((err: unknown) =>
      ctx.logger.warn({ err: (err as Error).message, orderId: data.order_id }, 'release by invocation failed; the status event will release'),
    );
  }
}

/** Every 5 minutes: cash-on-delivery orders need no payment event; confirm them once reserved. */
async function codAutoConfirm(): Promise<void> {
  const cutoff = new Date(Date.now() - codConfirmAfterMs).toISOString();
  const due = await db.selectFrom('orders').select('id').where('payment_method', '=', 'cod').where('status', '=', 'pending_payment').where('created_at', '<=', cutoff).limit(100).execute();
  for (const { id } of due) {
    try {
      await callWarehouse(ctx.bus.client, 'v1/reservations/confirm', { orderId: id });
      await db.transaction().execute((trx) => changeOrderStatus(trx, ctx.topic, id, 'payment_confirmed', 'cash on delivery auto-confirmed'));
    } catch (err) {
      ctx.logger.warn({ orderId: id, err: (err as Error).message }, 'COD auto-confirm postponed');
    }
  }
  ctx.relay.kick();
  ctx.logger.info({ confirmed: due.length }, 'COD auto-confirm');
}

/** Hourly: card orders unpaid for too long are cancelled (the warehouse then releases their stock). */
async function cleanupUnpaidOrders(): Promise<void> {
  const cutoff = new Date(Date.now() - unpaidTimeoutMs).toISOString();
  const stale = await db.selectFrom('orders').select('id').where('payment_method', '=', 'card').where('status', '=', 'pending_payment').where('created_at', '<=', cutoff).limit(500).execute();
  for (const { id } of stale) await db.transaction().execute((trx) => changeOrderStatus(trx, ctx.topic, id, 'cancelled', 'payment not received in time'));
  ctx.relay.kick();
  const { count } = (await sql<{ count: number }>`select count(*) as count from orders where status = 'pending_payment'`.execute(db)).rows[0] ?? { count: 0 };
  ctx.logger.info({ cancelled: stale.length, stillPending: Number(count) }, 'unpaid order cleanup');
}

if (ctx.events) {
  const pubsub = ctx.config.pubsubName;
  ctx.bus.addConsumer(ctx.topic(TOPICS.paymentConfirmed), pubsub, onPaymentConfirmed, { deadLetterTopic });
  ctx.bus.addConsumer(ctx.topic(TOPICS.paymentFailed), pubsub, onPaymentFailed, { deadLetterTopic });
  addDeadLetterSink(ctx, db as unknown as Kysely<EventTables>, deadLetterTopic);
}
if (ctx.cron) {
  ctx.bus.addBinding('order-cod-auto-confirm', codAutoConfirm);
  ctx.bus.addBinding('order-unpaid-cleanup', cleanupUnpaidOrders);
}
await runWorker(ctx, db as unknown as Kysely<EventTables>);
