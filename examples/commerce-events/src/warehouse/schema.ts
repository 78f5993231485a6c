/** The warehouse service's tables and migrations. */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { eventTablesMigration } from '../shared/db.js';
import type { EventTables } from '../shared/db.js';

/** `active` holds stock until `expires_at`; `confirmed` (paid) holds it until shipped. */
export type ReservationStatus = 'active' | 'confirmed' | 'fulfilled' | 'released' | 'expired';

export interface WarehouseTables extends EventTables {
  inventory: { sku: string; on_hand: number; reserved: number; reported_available: number | null; updated_at: string };
  reservations: {
    id: string;
    order_id: string;
    sku: string;
    quantity: number;
    status: ReservationStatus;
    expires_at: string | null;
    fulfillment_id: string | null;
    created_at: string;
    updated_at: string;
  };
  daily_summaries: { day: string; reservations_created: number; reservations_confirmed: number; reservations_released: number; reservations_expired: number; low_stock_skus: number; created_at: string };
}

export const warehouseMigrations: Record<string, Migration> = {
  '0001_event_tables': eventTablesMigration,
  '0002_inventory': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('inventory')
        .addColumn('sku', 'text', (c) => c.primaryKey())
        .addColumn('on_hand', 'integer', (c) => c.notNull())
        .addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reported_available', 'integer')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addCheckConstraint('inventory_reserved_le_on_hand', sql`reserved >= 0 and reserved <= on_hand`)
        .execute();
      await db.schema
        .createTable('reservations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull().references('inventory.sku'))
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('fulfillment_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reservations_order').on('reservations').column('order_id').execute();
      await db.schema.createIndex('reservations_status_expires').on('reservations').columns(['status', 'expires_at']).execute();
      await db.schema
        .createTable('daily_summaries')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('reservations_created', 'integer', (c) => c.notNull())
        .addColumn('reservations_confirmed', 'integer', (c) => c.notNull())
        .addColumn('reservations_released', 'integer', (c) => c.notNull())
        .addColumn('reservations_expired', 'integer', (c) => c.notNull())
        .addColumn('low_stock_skus', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
