/**
 * fulfillment-worker (gRPC app, port 5005; default mode `event` as in the seed). A paid order gets a
 * fulfillment (`fulfillment.status_changed`, status `created`); a cancelled one cancels it while it
 * has not shipped. The seed lists no cron jobs for this service, so `--mode cron` starts no work.
 */
import type { Kysely } from 'kysely';
import { commonConfig } from '../shared/config.js';
import { consumeOnce } from '../shared/consume.js';
import { migrate, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { DEAD_LETTER_TOPICS, TOPICS, orderStatusChangedSchema } from '../shared/events.js';
import type { EventEnvelope } from '../shared/events.js';
import { MalformedEventError } from '../shared/event-bus.js';
import { HttpError } from '../shared/http.js';
import { addDeadLetterSink, createWorkerContext, runWorker } from '../shared/worker.js';
import { changeFulfillmentStatus, createFulfillment } from './fulfillments.js';
import { fulfillmentMigrations } from './schema.js';
import type { FulfillmentTables } from './schema.js';

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<FulfillmentTables>({ service: 'fulfillment', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'fulfillment', fulfillmentMigrations);
const ctx = createWorkerContext('fulfillment-worker', db as unknown as Kysely<EventTables>, 'event', process.argv.slice(2), env);
const deadLetterTopic = ctx.topic(DEAD_LETTER_TOPICS.fulfillment);

async function onOrderStatusChanged(event: EventEnvelope): Promise<void> {
  const parsed = orderStatusChangedSchema.safeParse(event.data);
  if (!parsed.success) throw new MalformedEventError(`order status event ${event.event_id}: ${parsed.error.message}`);
  const data = parsed.data;
  const outcome = await consumeOnce(db, 'fulfillment-worker/orders.order.status_changed', TOPICS.orderStatusChanged, event, async (trx) => {
    if (data.status === 'payment_confirmed') {
      const { id, created } = await createFulfillment(trx, ctx.topic, data.order_id, data.items);
      ctx.logger.info({ orderId: data.order_id, fulfillmentId: id, created }, 'fulfillment for paid order');
    } else if (data.status === 'cancelled') {
      const f = await trx.selectFrom('fulfillments').select('id').where('order_id', '=', data.order_id).executeTakeFirst();
      if (!f) return;
      try {
        await changeFulfillmentStatus(trx, ctx.topic, f.id, 'cancelled');
      } catch (err) {
        if (err instanceof HttpError && err.status === 409) ctx.logger.warn({ orderId: data.order_id, reason: err.message }, 'cancellation after shipping ignored');
        else throw err;
      }
    }
  });
  if (outcome === 'duplicate') ctx.logger.info({ eventId: event.event_id }, 'duplicate event ignored');
  ctx.relay.kick();
}

if (ctx.events) {
  ctx.bus.addConsumer(ctx.topic(TOPICS.orderStatusChanged), ctx.config.pubsubName, onOrderStatusChanged, { deadLetterTopic });
  addDeadLetterSink(ctx, db as unknown as Kysely<EventTables>, deadLetterTopic);
}
await runWorker(ctx, db as unknown as Kysely<EventTables>);
