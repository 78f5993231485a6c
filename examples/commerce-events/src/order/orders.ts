/** Order rules shared by the API and the worker: creation, status transitions, their events. */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { now } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { TOPICS } from '../shared/events.js';
import type { OrderItem, OrderStatus, OrderStatusChanged } from '../shared/events.js';
import { HttpError } from '../shared/http.js';
import { enqueueEvent } from '../shared/outbox.js';
import type { TopicNamer } from '../shared/outbox.js';
import type { OrderTables } from './schema.js';

type Db = Kysely<OrderTables> | Transaction<OrderTables>;

/** Allowed transitions; anything else is refused (409 in the API, ignored by consumers). */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['payment_confirmed', 'payment_failed', 'cancelled'],
  payment_failed: ['payment_confirmed', 'cancelled'],
  payment_confirmed: ['completed', 'cancelled'],
  cancelled: [],
  completed: [],
};

/** A new order's input. */
export interface NewOrder {
  customerId: string;
  paymentMethod: 'card' | 'cod';
  currency: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
}

/** An order with its lines and history, as the API returns it. */
export async function loadOrder(db: Db, id: string) {
  const order = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  if (!order) return undefined;
  const items = await db.selectFrom('order_items').select(['sku', 'quantity', 'unit_price_cents']).where('order_id', '=', id).orderBy('sku').execute();
  const history = await db.selectFrom('order_status_history').select(['from_status', 'to_status', 'reason', 'changed_at']).where('order_id', '=', id).orderBy('changed_at').execute();
  return {
    id: order.id,
    customerId: order.customer_id,
    status: order.status,
    paymentMethod: order.payment_method,
    totalCents: order.total_cents,
    currency: order.currency,
    paymentId: order.payment_id,
    createdAt: order.created_at,
    updatedAt: order.updated_at,
    items: items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unit_price_cents })),
    history: history.map((h) => ({ from: h.from_status, to: h.to_status, reason: h.reason, at: h.changed_at })),
  };
}

async function itemsOf(db: Db, orderId: string): Promise<OrderItem[]> {
  return db.selectFrom('order_items').select(['sku', 'quantity']).where('order_id', '=', orderId).orderBy('sku').execute();
}

/** Creates an order in `pending_payment` and queues `orders.order.status_changed`. */
export async function createOrder(trx: Transaction<OrderTables>, topic: TopicNamer, input: NewOrder): Promise<string> {
  const id = randomUUID();
  const at = now();
  const totalCents = input.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
  await trx
    .insertInto('orders')
    .values({ id, customer_id: input.customerId, status: 'pending_payment', payment_method: input.paymentMethod, total_cents: totalCents, currency: input.currency, payment_id: null, created_at: at, updated_at: at })
    .execute();
  await trx.insertInto('order_items').values(input.items.map((i) => ({ order_id: id, sku: i.sku, quantity: i.quantity, unit_price_cents: i.unitPriceCents }))).execute();
  await trx.insertInto('order_status_history').values({ id: randomUUID(), order_id: id, from_status: null, to_status: 'pending_payment', reason: 'order placed', changed_at: at }).execute();
  const data: OrderStatusChanged = { order_id: id, status: 'pending_payment', previous_status: null, items: input.items.map((i) => ({ sku: i.sku, quantity: i.quantity })) };
  await enqueueEvent(trx as unknown as Transaction<EventTables>, topic(TOPICS.orderStatusChanged), TOPICS.orderStatusChanged, data);
  return id;
}

/**
 * Moves an order to `to` and queues `orders.order.status_changed`. Returns false, changing nothing,
 * when the order is already there; throws 404/409 HttpErrors for a missing order or a refused move.
 */
export async function changeOrderStatus(
  trx: Transaction<OrderTables>,
  topic: TopicNamer,
  orderId: string,
  to: OrderStatus,
  reason: string,
  patch: { paymentId?: string } = {},
): Promise<boolean> {
  const order = await trx.selectFrom('orders').select(['status']).where('id', '=', orderId).executeTakeFirst();
  if (!order) throw new HttpError(404, 'ORDER_NOT_FOUND', `order ${orderId} does not exist`);
  if (order.status === to) return false;
  if (!TRANSITIONS[order.status].includes(to)) throw new HttpError(409, 'ORDER_STATUS_CONFLICT', `order ${orderId} is ${order.status} and cannot become ${to}`);
  const at = now();
  await trx
    .updateTable('orders')
    .set({ status: to, updated_at: at, ...(patch.paymentId ? { payment_id: patch.paymentId } : {}) })
    .where('id', '=', orderId)
    .execute();
  await trx.insertInto('order_status_history').values({ id: randomUUID(), order_id: orderId, from_status: order.status, to_status: to, reason, changed_at: at }).execute();
  const data: OrderStatusChanged = { order_id: orderId, status: to, previous_status: order.status, items: await itemsOf(trx, orderId), reason };
  await enqueueEvent(trx as unknown as Transaction<EventTables>, topic(TOPICS.orderStatusChanged), TOPICS.orderStatusChanged, data);
  return true;
}
