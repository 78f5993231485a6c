/**
 * The event contract of the seed: topics named `{service}.{entity}.{action}` and a payload that
 * carries `event_type`, `timestamp` and `metadata` next to the data. We add `event_id`, the key every
 * consumer deduplicates on (the CloudEvent id is not visible to gRPC handlers of the SDK, and a
 * republished outbox row keeps its `event_id` while it would get a new CloudEvent id).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** The topics of the example (without the per-deployment prefix). */
export const TOPICS = {
  paymentConfirmed: 'payment.confirmed',
  paymentFailed: 'payment.failed',
  orderStatusChanged: 'orders.order.status_changed',
  fulfillmentStatusChanged: 'fulfillment.status_changed',
  reservationCreated: 'warehouse.reservation.created',
  reservationConfirmed: 'warehouse.reservation.confirmed',
  reservationReleased: 'warehouse.reservation.released',
  reservationExpired: 'warehouse.reservation.expired',
  reservationFailed: 'warehouse.reservation.failed',
  inventoryUpdated: 'warehouse.inventory.updated',
} as const;

/** Where each service's worker parks events it gave up on (`{service}.dead_letter`). */
export const DEAD_LETTER_TOPICS = {
  order: 'orders.dead_letter',
  fulfillment: 'fulfillment.dead_letter',
  warehouse: 'warehouse.dead_letter',
} as const;

/** The envelope every event of the example is published in (inside Dapr's CloudEvent). */
export const envelopeSchema = z.object({
  event_id: z.string().min(1),
  event_type: z.string().min(1),
  timestamp: z.string().min(1),
  metadata: z.record(z.string(), z.string()).default({}),
  data: z.unknown(),
});

/** A parsed envelope with typed data. */
export interface EventEnvelope<T = unknown> {
  event_id: string;
  event_type: string;
  timestamp: string;
  metadata: Record<string, string>;
  data: T;
}

/** A new envelope; `event_type` is the topic's unprefixed name. */
export function newEnvelope<T>(eventType: string, data: T, metadata: Record<string, string> = {}): EventEnvelope<T> {
  return { event_id: randomUUID(), event_type: eventType, timestamp: new Date().toISOString(), metadata, data };
}

/** Order statuses, as the seed's order service names them. */
export const ORDER_STATUSES = ['pending_payment', 'payment_confirmed', 'payment_failed', 'cancelled', 'completed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** An order line as it travels in events. */
export const orderItemSchema = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });
export type OrderItem = z.infer<typeof orderItemSchema>;

/** `orders.order.status_changed`. */
export const orderStatusChangedSchema = z.object({
  order_id: z.string().min(1),
  status: z.enum(ORDER_STATUSES),
  previous_status: z.enum(ORDER_STATUSES).nullable(),
  items: z.array(orderItemSchema),
  reason: z.string().optional(),
});
export type OrderStatusChanged = z.infer<typeof orderStatusChangedSchema>;

/** `payment.confirmed` and `payment.failed`, published by the payment service (not part of this example). */
export const paymentEventSchema = z.object({
  order_id: z.string().min(1),
  payment_id: z.string().min(1),
  amount_cents: z.number().int().nonnegative().optional(),
  reason: z.string().optional(),
});
export type PaymentEvent = z.infer<typeof paymentEventSchema>;

/** Fulfillment statuses. */
export const FULFILLMENT_STATUSES = ['created', 'picking', 'packed', 'shipped', 'delivered', 'cancelled'] as const;
export type FulfillmentStatus = (typeof FULFILLMENT_STATUSES)[number];

/** `fulfillment.status_changed`. */
export const fulfillmentStatusChangedSchema = z.object({
  fulfillment_id: z.string().min(1),
  order_id: z.string().min(1),
  status: z.enum(FULFILLMENT_STATUSES),
  previous_status: z.enum(FULFILLMENT_STATUSES).nullable(),
  items: z.array(orderItemSchema),
});
export type FulfillmentStatusChanged = z.infer<typeof fulfillmentStatusChangedSchema>;
