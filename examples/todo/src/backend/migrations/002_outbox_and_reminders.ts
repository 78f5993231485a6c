/**
 * The transactional outbox (events are written in the same transaction as the task change and
 * published afterwards, so none is lost when the broker is briefly away) and an index for the
 * reminder checker's scan.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigserial', (c) => c.notNull())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('outbox_unpublished').on('outbox_events').column('seq').where(sql.ref('published_at'), 'is', null).execute();
  await db.schema.createIndex('tasks_due_reminders').on('tasks').column('remind_at').where(sql.ref('reminder_sent_at'), 'is', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('tasks_due_reminders').execute();
  await db.schema.dropTable('outbox_events').execute();
}
