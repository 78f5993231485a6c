/** fulfillment-service: the fulfillment API (HTTP, the seed's port 8010). */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { createApiContext, runApi } from '../shared/api.js';
import { commonConfig } from '../shared/config.js';
import { migrate, openDatabase } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { FULFILLMENT_STATUSES } from '../shared/events.js';
import { HttpError, parseOr400 } from '../shared/http.js';
import { changeFulfillmentStatus, loadFulfillment } from './fulfillments.js';
import { fulfillmentMigrations } from './schema.js';
import type { FulfillmentTables } from './schema.js';

const env = process.env;
const config = commonConfig(env);
const db = openDatabase<FulfillmentTables>({ service: 'fulfillment', url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
await migrate(db as unknown as Kysely<unknown>, 'fulfillment', fulfillmentMigrations);
const ctx = createApiContext('fulfillment-service', db as unknown as Kysely<EventTables>, env);

const idParams = z.object({ id: z.string().min(1) });
const listQuery = z.object({ orderId: z.string().min(1).optional(), status: z.enum(FULFILLMENT_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });
const statusBody = z.object({ status: z.enum(FULFILLMENT_STATUSES) });

ctx.app.get('/v1/fulfillments', async (request) => {
  const query = parseOr400(listQuery, request.query);
  let q = db.selectFrom('fulfillments').select('id').orderBy('created_at', 'desc').limit(query.limit);
  if (query.orderId) q = q.where('order_id', '=', query.orderId);
  if (query.status) q = q.where('status', '=', query.status);
  const rows = await q.execute();
  return { fulfillments: await Promise.all(rows.map((r) => loadFulfillment(db, r.id))) };
});

ctx.app.get('/v1/fulfillments/:id', async (request) => {
  const { id } = parseOr400(idParams, request.params);
  const f = await loadFulfillment(db, id);
  if (!f) throw new HttpError(404, 'FULFILLMENT_NOT_FOUND', `fulfillment ${id} does not exist`);
  return f;
});

ctx.app.post('/v1/fulfillments/:id/status', async (request) => {
  const { id } = parseOr400(idParams, request.params);
  const { status } = parseOr400(statusBody, request.body);
  await db.transaction().execute((trx) => changeFulfillmentStatus(trx, ctx.topic, id, status));
  ctx.relay.kick();
  return loadFulfillment(db, id);
});

await runApi(ctx, db as unknown as Kysely<EventTables>, process.argv.slice(2), env, 8010);
