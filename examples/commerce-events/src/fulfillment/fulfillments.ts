/** Fulfillment rules shared by the API and the worker. */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { now } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { TOPICS } from '../shared/events.js';
import type { FulfillmentStatus, FulfillmentStatusChanged, OrderItem } from '../shared/events.js';
import { HttpError } from '../shared/http.js';
import { enqueueEvent } from '../shared/outbox.js';
import type { TopicNamer } from '../shared/outbox.js';
import type { FulfillmentTables } from './schema.js';

type Db = Kysely<FulfillmentTables> | Transaction<FulfillmentTables>;

/** Allowed moves of a fulfillment. */
export const TRANSITIONS: Record<FulfillmentStatus, readonly FulfillmentStatus[]> = {
  created: ['picking', 'cancelled'],
  picking: ['packed', 'cancelled'],
  packed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** A fulfillment with its items, as the API returns it. */
export async function loadFulfillment(db: Db, id: string) {
  const f = await db.selectFrom('fulfillments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!f) return undefined;
  const items = await db.selectFrom('fulfillment_items').select(['sku', 'quantity']).where('fulfillment_id', '=', id).orderBy('sku').execute();
  return { id: f.id, orderId: f.order_id, status: f.status, createdAt: f.created_at, updatedAt: f.updated_at, items };
}

async function announce(trx: Transaction<FulfillmentTables>, topic: TopicNamer, data: FulfillmentStatusChanged): Promise<void> {
  await enqueueEvent(trx as unknown as Transaction<EventTables>, topic(TOPICS.fulfillmentStatusChanged), TOPICS.fulfillmentStatusChanged, data);
}

/** Creates the order's fulfillment unless it exists; returns its id and whether it was new. */
export async function createFulfillment(trx: Transaction<FulfillmentTables>, topic: TopicNamer, orderId: string, items: OrderItem[]): Promise<{ id: string; created: boolean }> {
  const existing = await trx.selectFrom('fulfillments').select('id').where('order_id', '=', orderId).executeTakeFirst();
  if (existing) return { id: existing.id, created: false };
  const id = randomUUID();
  const at = now();
  await trx.insertInto('fulfillments').values({ id, order_id: orderId, status: 'created', created_at: at, updated_at: at }).execute();
  if (items.length > 0) await trx.insertInto('fulfillment_items').values(items.map((i) => ({ fulfillment_id: id, sku: i.sku, quantity: i.quantity }))).execute();
  await announce(trx, topic, { fulfillment_id: id, order_id: orderId, status: 'created', previous_status: null, items });
  return { id, created: true };
}

/** Moves a fulfillment; false when it is already there; 404/409 HttpErrors otherwise. */
export async function changeFulfillmentStatus(trx: Transaction<FulfillmentTables>, topic: TopicNamer, id: string, to: FulfillmentStatus): Promise<boolean> {
  const f = await trx.selectFrom('fulfillments').select(['status', 'order_id']).where('id', '=', id).executeTakeFirst();
  if (!f) throw new HttpError(404, 'FULFILLMENT_NOT_FOUND', `fulfillment ${id} does not exist`);
  if (f.status === to) return false;
  if (!TRANSITIONS[f.status].includes(to)) throw new HttpError(409, 'FULFILLMENT_STATUS_CONFLICT', `fulfillment ${id} is ${f.status} and cannot become ${to}`);
  await trx.updateTable('fulfillments').set({ status: to, updated_at: now() }).where('id', '=', id).execute();
  const items = await trx.selectFrom('fulfillment_items').select(['sku', 'quantity']).where('fulfillment_id', '=', id).orderBy('sku').execute();
  await announce(trx, topic, { fulfillment_id: id, order_id: f.order_id, status: to, previous_status: f.status, items });
  return true;
}
