/** The fulfillment service's tables and migrations. */
import type { Kysely, Migration } from 'kysely';
import { eventTablesMigration } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';
import type { FulfillmentStatus } from '../shared/events.js';

export interface FulfillmentTables extends EventTables {
  fulfillments: { id: string; order_id: string; status: FulfillmentStatus; created_at: string; updated_at: string };
  fulfillment_items: { fulfillment_id: string; sku: string; quantity: number };
}

export const fulfillmentMigrations: Record<string, Migration> = {
  '0001_event_tables': eventTablesMigration,
  '0002_fulfillments': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('fulfillments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // One fulfillment per order: a second `payment_confirmed` event cannot create another.
        .addColumn('order_id', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fulfillment_items')
        .addColumn('fulfillment_id', 'text', (c) => c.notNull().references('fulfillments.id').onDelete('cascade'))
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('fulfillment_items_pk', ['fulfillment_id', 'sku'])
        .execute();
    },
  },
};
