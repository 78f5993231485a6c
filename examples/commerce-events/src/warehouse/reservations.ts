/**
 * Stock and reservations, shared by the warehouse API (confirm/release called by the order worker
 * through service invocation) and the warehouse worker (events and cron jobs). Every function runs
 * inside the caller's transaction and queues its events in the outbox.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import { now } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import { TOPICS } from '../shared/events.js';
import type { OrderItem } from '../shared/events.js';
import { HttpError } from '../shared/http.js';
import { enqueueEvent } from '../shared/outbox.js';
import type { TopicNamer } from '../shared/outbox.js';
import type { ReservationStatus, WarehouseTables } from './schema.js';

type Trx = Transaction<WarehouseTables>;

const queue = (trx: Trx, topic: TopicNamer, name: string, data: unknown) => enqueueEvent(trx as unknown as Transaction<EventTables>, topic(name), name, data);

/** A reservation as the API returns it. */
export interface ReservationView {
  id: string;
  orderId: string;
  sku: string;
  quantity: number;
  status: ReservationStatus;
  expiresAt: string | null;
  fulfillmentId: string | null;
}

/** The order's reservations. */
export async function reservationsOf(trx: Trx | Kysely<WarehouseTables>, orderId: string): Promise<ReservationView[]> {
  const rows = await trx.selectFrom('reservations').selectAll().where('order_id', '=', orderId).orderBy('sku').execute();
  return rows.map((r) => ({ id: r.id, orderId: r.order_id, sku: r.sku, quantity: r.quantity, status: r.status, expiresAt: r.expires_at, fulfillmentId: r.fulfillment_id }));
}

/**
 * Reserves every line of a new order, all or nothing. Short stock reserves nothing and announces
 * `warehouse.reservation.failed`. Returns false when the order already has reservations.
 */
export async function reserveOrder(trx: Trx, topic: TopicNamer, orderId: string, items: OrderItem[], ttlMs: number): Promise<boolean> {
  if ((await reservationsOf(trx, orderId)).length > 0) return false;
  const shortages: { sku: string; requested: number; available: number }[] = [];
  for (const item of items) {
    const row = await trx.selectFrom('inventory').select(['on_hand', 'reserved']).where('sku', '=', item.sku).executeTakeFirst();
    const available = row ? row.on_hand - row.reserved : 0;
    if (available < item.quantity) shortages.push({ sku: item.sku, requested: item.quantity, available });
  }
  if (shortages.length > 0) {
    await queue(trx, topic, TOPICS.reservationFailed, { order_id: orderId, shortages });
    return false;
  }
  const at = now();
  const expiresAt = new Date(Date.now() + ttlMs).toISOString();
  for (const item of items) {
    await trx.updateTable('inventory').set({ reserved: sql<number>`reserved + ${item.quantity}`, updated_at: at }).where('sku', '=', item.sku).execute();
    await trx
      .insertInto('reservations')
      .values({ id: randomUUID(), order_id: orderId, sku: item.sku, quantity: item.quantity, status: 'active', expires_at: expiresAt, fulfillment_id: null, created_at: at, updated_at: at })
      .execute();
  }
  await queue(trx, topic, TOPICS.reservationCreated, { order_id: orderId, items, expires_at: expiresAt });
  return true;
}

/**
 * Confirms the order's reservations after payment: `active` → `confirmed` (no more expiry). Idempotent.
 * 404 when the order has none yet (the caller retries), 409 when they were released or expired.
 */
export async function confirmForPayment(trx: Trx, orderId: string): Promise<ReservationView[]> {
  const list = await reservationsOf(trx, orderId);
  if (list.length === 0) throw new HttpError(404, 'RESERVATION_NOT_FOUND', `order ${orderId} has no reservations yet`);
  const gone = list.find((r) => r.status === 'released' || r.status === 'expired');
  if (gone) throw new HttpError(409, 'RESERVATION_GONE', `the reservations of order ${orderId} were ${gone.status}`);
  await trx.updateTable('reservations').set({ status: 'confirmed', expires_at: null, updated_at: now() }).where('order_id', '=', orderId).where('status', '=', 'active').execute();
  return reservationsOf(trx, orderId);
}

/**
 * Binds the order's reservations to its fulfillment and announces `warehouse.reservation.confirmed`
 * once. Active ones are confirmed here too (when the invocation after payment did not get through).
 */
export async function confirmForFulfillment(trx: Trx, topic: TopicNamer, orderId: string, fulfillmentId: string): Promise<boolean> {
  const list = await reservationsOf(trx, orderId);
  const open = list.filter((r) => (r.status === 'active' || r.status === 'confirmed') && r.fulfillmentId === null);
  if (open.length === 0) return false;
  await trx
    .updateTable('reservations')
    .set({ status: 'confirmed', expires_at: null, fulfillment_id: fulfillmentId, updated_at: now() })
    .where('order_id', '=', orderId)
    .where('status', 'in', ['active', 'confirmed'])
    .execute();
  await queue(trx, topic, TOPICS.reservationConfirmed, {
    order_id: orderId,
    fulfillment_id: fulfillmentId,
    items: open.map((r) => ({ sku: r.sku, quantity: r.quantity })),
  });
  return true;
}

/** Releases the order's held reservations (`released` or `expired`), returning their stock. */
export async function releaseOrder(trx: Trx, topic: TopicNamer, orderId: string, reason: string, as: 'released' | 'expired' = 'released'): Promise<number> {
  const held = (await reservationsOf(trx, orderId)).filter((r) => r.status === 'active' || r.status === 'confirmed');
  if (held.length === 0) return 0;
  const at = now();
  for (const r of held) {
    await trx.updateTable('inventory').set({ reserved: sql<number>`reserved - ${r.quantity}`, updated_at: at }).where('sku', '=', r.sku).execute();
    await trx.updateTable('reservations').set({ status: as, updated_at: at }).where('id', '=', r.id).execute();
  }
  await queue(trx, topic, as === 'expired' ? TOPICS.reservationExpired : TOPICS.reservationReleased, {
    order_id: orderId,
    reason,
    items: held.map((r) => ({ sku: r.sku, quantity: r.quantity })),
  });
  return held.length;
}

/** A shipped fulfillment takes its stock off the shelf: on hand and reserved both go down. */
export async function fulfilReservations(trx: Trx, topic: TopicNamer, fulfillmentId: string): Promise<number> {
  const rows = await trx.selectFrom('reservations').selectAll().where('fulfillment_id', '=', fulfillmentId).where('status', '=', 'confirmed').execute();
  const at = now();
  for (const r of rows) {
    await trx.updateTable('inventory').set({ on_hand: sql<number>`on_hand - ${r.quantity}`, reserved: sql<number>`reserved - ${r.quantity}`, updated_at: at }).where('sku', '=', r.sku).execute();
    await trx.updateTable('reservations').set({ status: 'fulfilled', updated_at: at }).where('id', '=', r.id).execute();
  }
  if (rows.length > 0) await queue(trx, topic, TOPICS.inventoryUpdated, { reason: 'shipped', fulfillment_id: fulfillmentId, skus: rows.map((r) => r.sku) });
  return rows.length;
}
