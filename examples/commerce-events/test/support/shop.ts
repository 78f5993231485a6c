/** Calls on the example's APIs and the Redis streams behind `pubsub-redis`, for the tests. */
import { Redis } from 'ioredis';
import { REDIS_HOST } from '../../../../test/support/services.js';
import type { RunningApp } from './stack.js';
import { eventually, http } from './stack.js';

/** The three API apps. */
export interface Apis {
  order: RunningApp;
  fulfillment: RunningApp;
  warehouse: RunningApp;
}

export interface OrderView {
  id: string;
  status: string;
  history: { from: string | null; to: string; reason: string }[];
}
export interface ReservationView {
  sku: string;
  quantity: number;
  status: string;
  fulfillmentId: string | null;
}
export interface InventoryView {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

const base = (app: RunningApp) => `http://127.0.0.1:${app.appPort}`;

export const setStock = (apis: Apis, sku: string, onHand: number) => http<InventoryView>(`${base(apis.warehouse)}/v1/inventory/${sku}`, 'PUT', { onHand });
export const inventory = (apis: Apis, sku: string) => http<InventoryView>(`${base(apis.warehouse)}/v1/inventory/${sku}`);
export const order = (apis: Apis, id: string) => http<OrderView>(`${base(apis.order)}/v1/orders/${id}`);
export const reservations = async (apis: Apis, orderId: string) =>
  (await http<{ reservations: ReservationView[] }>(`${base(apis.warehouse)}/v1/reservations?orderId=${orderId}`)).reservations;
export const fulfillments = async (apis: Apis, orderId: string) =>
  (await http<{ fulfillments: { id: string; status: string }[] }>(`${base(apis.fulfillment)}/v1/fulfillments?orderId=${orderId}`)).fulfillments;
export const deadLetters = async (app: RunningApp) =>
  (await http<{ deadLetters: { id: string; topic: string; payload: unknown }[] }>(`${base(app)}/v1/dead-letters`)).deadLetters;

/** Places an order and waits until the warehouse has reserved its stock. */
export async function placeReservedOrder(apis: Apis, items: { sku: string; quantity: number }[], paymentMethod: 'card' | 'cod' = 'card'): Promise<string> {
  const created = await http<OrderView>(`${base(apis.order)}/v1/orders`, 'POST', {
    customerId: 'c-1',
    paymentMethod,
    items: items.map((i) => ({ ...i, unitPriceCents: 500 })),
  });
  await eventually(async () => (await reservations(apis, created.id)).length === items.length, `reservations of order ${created.id}`);
  return created.id;
}

/** Waits until the order has `status`, and returns it. */
export async function orderWithStatus(apis: Apis, id: string, status: string, timeoutMs?: number): Promise<OrderView> {
  return eventually(async () => {
    const o = await order(apis, id);
    return o.status === status ? o : undefined;
  }, `order ${id} to be ${status}`, timeoutMs);
}

/** The envelopes published on a Redis stream (one topic), unwrapped from their CloudEvents. */
export async function streamEvents(redis: Redis, topic: string): Promise<{ event_id: string; data: Record<string, unknown> }[]> {
  const entries = await redis.xrange(topic, '-', '+');
  return entries.map(([, fields]) => {
    const at = fields.indexOf('data');
    const ce = JSON.parse(fields[at + 1] ?? '{}') as { data: { event_id: string; data: Record<string, unknown> } };
    return ce.data;
  });
}

/** A Redis client for reading the streams. */
export function redisClient(): Redis {
  const [host, port] = REDIS_HOST.split(':');
  return new Redis({ host: host ?? '127.0.0.1', port: Number(port ?? 6379), lazyConnect: false, maxRetriesPerRequest: 2 });
}

/** Deletes the streams of one test run. */
export async function dropStreams(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}
