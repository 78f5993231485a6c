/** The order service's tables and migrations. */
import type { Kysely, Migration } from 'kysely';
import { eventTablesMigration } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import type { OrderStatus } from '../shared/events.js';

export interface OrderTables extends EventTables {
  orders: {
    id: string;
    customer_id: string;
    status: OrderStatus;
    payment_method: 'card' | 'cod';
    total_cents: number;
    currency: string;
    payment_id: string | null;
    created_at: string;
    updated_at: string;
  };
  order_items: { order_id: string; sku: string; quantity: number; unit_price_cents: number };
  order_status_history: { id: string; order_id: string; from_status: OrderStatus | null; to_status: OrderStatus; reason: string; changed_at: string };
}

export const orderMigrations: Record<string, Migration> = {
  '0001_event_tables': eventTablesMigration,
  '0002_orders': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('payment_method', 'text', (c) => c.notNull())
        .addColumn('total_cents', 'integer', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('payment_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('orders_status_created').on('orders').columns(['status', 'created_at']).execute();
      await db.schema
        .createTable('order_items')
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('unit_price_cents', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'sku'])
        .execute();
      await db.schema
        .createTable('order_status_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('from_status', 'text')
        .addColumn('to_status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('order_status_history_order').on('order_status_history').column('order_id').execute();
    },
  },
};
