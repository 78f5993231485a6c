/**
 * Each recurring task remembers the occurrence its completion created. The hourly catch-up then
 * looks for completed recurring tasks with none, and a user deleting the next occurrence does not
 * see it come back.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('next_occurrence_id', 'text').execute();
  await sql`UPDATE tasks AS parent SET next_occurrence_id = child.id FROM tasks AS child WHERE child.recurrence_parent_id = parent.id`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').dropColumn('next_occurrence_id').execute();
}
