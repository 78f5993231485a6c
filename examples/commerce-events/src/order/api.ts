/**
 * order-service: the order API (HTTP, the seed's port 8000). Places orders, shows them with their
 * history, cancels them; every change is announced on `orders.order.status_changed` via the outbox.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { createApiContext, runApi } from '../shared/api.js';
import { migrate, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { commonConfig } from '../shared/config.js';
import { ORDER_STATUSES } from '../shared/events.js';
import { HttpError, parseOr400 } from '../shared/http.js';
import { changeOrderStatus, createOrder, loadOrder } from './orders.js';
import { orderMigrations } from './schema.js';
import type { OrderTables } from './schema.js';

const newOrderSchema = z
  .object({
    customerId: z.string().min(1).max(100),
    paymentMethod: z.enum(['card', 'cod']).default('card'),
    currency: z.string().length(3).default('EUR'),
    items: z.array(z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().positive().max(1000), unitPriceCents: z.number().int().nonnegative() })).min(1).max(100),
  })
  .refine((o) => new Set(o.items.map((i) => i.sku)).size === o.items.length, { message: 'each sku may appear once', path: ['items'] });

const idParams = z.object({ id: z.string().min(1) });
const listQuery = z.object({ status: z.enum(ORDER_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });
const cancelSchema = z.object({ reason: z.string().min(1).max(500).default('cancelled by customer') });

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<OrderTables>({ service: 'order', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'order', orderMigrations);
const ctx = createApiContext('order-service', db as unknown as Kysely<EventTables>, env);

ctx.app.post('/v1/orders', async (request, reply) => {
  const input = parseOr400(newOrderSchema, request.body);
  const id = await db.transaction().execute((trx) => createOrder(trx, ctx.topic, input));
  ctx.relay.kick();
  return reply.status(201).send(await loadOrder(db, id));
});

ctx.app.get('/v1/orders', async (request) => {
  const query = parseOr400(listQuery, request.query);
  let q = db.selectFrom('orders').select('id').orderBy('created_at', 'desc').limit(query.limit);
  if (query.status) q = q.where('status', '=', query.status);
  const ids = await q.execute();
  return { orders: await Promise.all(ids.map((r) => loadOrder(db, r.id))) };
});

ctx.app.get('/v1/orders/:id', async (request) => {
  const { id } = parseOr400(idParams, request.params);
  const order = await loadOrder(db, id);
  if (!order) throw new HttpError(404, 'ORDER_NOT_FOUND', `order ${id} does not exist`);
  return order;
});

ctx.app.post('/v1/orders/:id/cancel', async (request) => {
  const { id } = parseOr400(idParams, request.params);
  const { reason } = parseOr400(cancelSchema, request.body ?? {});
  await db.transaction().execute((trx) => changeOrderStatus(trx, ctx.topic, id, 'cancelled', reason));
  ctx.relay.kick();
  return loadOrder(db, id);
});

await runApi(ctx, db as unknown as Kysely<EventTables>, process.argv.slice(2), env, 8000);
