/**
 * The first schema version: workflow definitions and their tasks, and the executions with their
 * per-task results and status events. Migrations never change once released; the next change is a
 * new file with a later name (Kysely's Migrator applies them in name order).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workflows')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('workflow_id', 'uuid', (c) => c.notNull().references('workflows.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull().check(sql`sequence >= 1`))
    .addColumn('execution_type', 'text', (c) => c.notNull().check(sql`execution_type in ('sync', 'async')`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('http', 'delay', 'transform')`))
    .addColumn('config', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('tasks_workflow_name_unique', ['workflow_id', 'name'])
    .execute();
  await db.schema.createIndex('tasks_workflow_order').on('tasks').columns(['workflow_id', 'sequence', 'created_at']).execute();

  // Executions keep a snapshot of the definition they ran, so history survives edits and deletes.
  await db.schema
    .createTable('executions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'uuid', (c) => c.notNull())
    .addColumn('workflow_name', 'text', (c) => c.notNull())
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.unique())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')`))
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('executions_by_workflow').on('executions').columns(['workflow_id', 'created_at']).execute();

  await db.schema
    .createTable('task_runs')
    .addColumn('execution_id', 'uuid', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('task_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('execution_type', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')`))
    .addColumn('result', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addPrimaryKeyConstraint('task_runs_pk', ['execution_id', 'task_id'])
    .execute();

  // An append-only log of status changes: what ExecuteWorkflow streams. `task_id` is null for the
  // workflow itself; the unique index makes recording a transition idempotent (activities are
  // at-least-once, so the same transition may be recorded twice).
  await db.schema
    .createTable('execution_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('execution_id', 'uuid', (c) => c.notNull().references('executions.id').onDelete('cascade'))
    .addColumn('task_id', 'uuid')
    .addColumn('task_name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('result', 'jsonb')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await sql`create unique index execution_events_once on execution_events (execution_id, coalesce(task_id, '00000000-0000-0000-0000-000000000000'::uuid), status)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['execution_events', 'task_runs', 'executions', 'tasks', 'workflows']) await db.schema.dropTable(table).execute();
}
