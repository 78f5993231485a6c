/** The order: API shape (camelCase), storage shape (snake_case), conversions and the status rules. */
import { z } from 'zod';
import { bodyId } from '../shared/schemas.js';

/** Order statuses; an order is created PENDING. */
export const OrderStatus = z.enum(['PENDING', 'PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Statuses after which the status may not change. */
export const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['DELIVERED', 'CANCELLED']);

const OrderItemRequest = z.strictObject({ productId: bodyId, quantity: z.number().int().positive() });

/** `POST /orders`: at least one item, no product twice. */
export const OrderCreateRequest = z.strictObject({
  orderId: bodyId.optional(),
  customerId: bodyId,
  items: z
    .array(OrderItemRequest)
    .min(1, 'an order needs at least one item')
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product may appear only once'),
});

/** `PUT /orders/{order_id}/status`. */
export const OrderStatusUpdateRequest = z.strictObject({ status: OrderStatus });

/** An order line. */
export interface OrderItem {
  productId: number;
  quantity: number;
}

/** An order as the API returns it. */
export interface Order {
  orderId: number;
  customerId: number;
  items: OrderItem[];
  status: OrderStatus;
}

/** An order as the state store holds it. */
export interface OrderRecord {
  order_id: number;
  customer_id: number;
  items: { product_id: number; quantity: number }[];
  status: OrderStatus;
}

/** API → storage. */
export function toRecord(o: Order): OrderRecord {
  return {
    order_id: o.orderId,
    customer_id: o.customerId,
    items: o.items.map((i) => ({ product_id: i.productId, quantity: i.quantity })),
    status: o.status,
  };
}

/** Storage → API. */
export function fromRecord(r: OrderRecord): Order {
  return {
    orderId: r.order_id,
    customerId: r.customer_id,
    items: r.items.map((i) => ({ productId: i.product_id, quantity: i.quantity })),
    status: r.status,
  };
}
