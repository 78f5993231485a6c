/**
 * warehouse-service: the warehouse API (HTTP, the seed's port 8003). Stock levels, reservations, the
 * daily summaries, and the two calls the order worker makes through service invocation:
 * `POST /v1/reservations/confirm` and `POST /v1/reservations/release`.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { createApiContext, runApi } from '../shared/api.js';
import { commonConfig } from '../shared/config.js';
import { migrate, now, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { HttpError, parseOr400 } from '../shared/http.js';
import { confirmForPayment, releaseOrder, reservationsOf } from './reservations.js';
import { warehouseMigrations } from './schema.js';
import type { WarehouseTables } from './schema.js';

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<WarehouseTables>({ service: 'warehouse', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'warehouse', warehouseMigrations);
const ctx = createApiContext('warehouse-service', db as unknown as Kysely<EventTables>, env);

const skuParams = z.object({ sku: z.string().min(1).max(64) });
const stockBody = z.object({ onHand: z.number().int().nonnegative() });
const orderBody = z.object({ orderId: z.string().min(1) });
const releaseBody = orderBody.extend({ reason: z.string().min(1).max(200).default('released on request') });
const orderQuery = z.object({ orderId: z.string().min(1) });

const view = (r: WarehouseTables['inventory']) => ({ sku: r.sku, onHand: r.on_hand, reserved: r.reserved, available: r.on_hand - r.reserved, updatedAt: r.updated_at });

ctx.app.get('/v1/inventory', async () => ({ inventory: (await db.selectFrom('inventory').selectAll().orderBy('sku').execute()).map(view) }));

ctx.app.get('/v1/inventory/:sku', async (request) => {
  const { sku } = parseOr400(skuParams, request.params);
  const row = await db.selectFrom('inventory').selectAll().where('sku', '=', sku).executeTakeFirst();
  if (!row) throw new HttpError(404, 'SKU_NOT_FOUND', `no stock record for ${sku}`);
  return view(row);
});

/** Sets the counted stock of a SKU (goods-in, stock take). It may not drop below what is reserved. */
ctx.app.put('/v1/inventory/:sku', async (request) => {
  const { sku } = parseOr400(skuParams, request.params);
  const { onHand } = parseOr400(stockBody, request.body);
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('inventory').selectAll().where('sku', '=', sku).executeTakeFirst();
    if (row && onHand < row.reserved) throw new HttpError(409, 'STOCK_BELOW_RESERVED', `${sku} has ${row.reserved} reserved; on hand cannot be ${onHand}`);
    if (row) await trx.updateTable('inventory').set({ on_hand: onHand, updated_at: now() }).where('sku', '=', sku).execute();
    else await trx.insertInto('inventory').values({ sku, on_hand: onHand, reserved: 0, reported_available: null, updated_at: now() }).execute();
    return view((await trx.selectFrom('inventory').selectAll().where('sku', '=', sku).executeTakeFirstOrThrow()));
  });
});

ctx.app.get('/v1/reservations', async (request) => {
  const { orderId } = parseOr400(orderQuery, request.query);
  return { reservations: await reservationsOf(db, orderId) };
});

ctx.app.post('/v1/reservations/confirm', async (request) => {
  const { orderId } = parseOr400(orderBody, request.body);
  const reservations = await db.transaction().execute((trx) => confirmForPayment(trx, orderId));
  return { orderId, reservations };
});

ctx.app.post('/v1/reservations/release', async (request) => {
  const { orderId, reason } = parseOr400(releaseBody, request.body);
  const released = await db.transaction().execute((trx) => releaseOrder(trx, ctx.topic, orderId, reason));
  ctx.relay.kick();
  return { orderId, released, reservations: await reservationsOf(db, orderId) };
});

ctx.app.get('/v1/summaries/daily', async () => ({ summaries: await db.selectFrom('daily_summaries').selectAll().orderBy('day', 'desc').limit(31).execute() }));

await runApi(ctx, db as unknown as Kysely<EventTables>, process.argv.slice(2), env, 8003);
