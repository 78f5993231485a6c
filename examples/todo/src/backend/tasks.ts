/**
 * Task persistence and the events each change publishes. Every change writes its events to the
 * outbox in the same transaction, so a task and its `task-events` / `audit-logs` entries are
 * committed together (the {@link Outbox} publishes them afterwards).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { TOPICS } from '../shared/config.js';
import type { TaskData, TaskEventType } from '../shared/events.js';
import { taskEvent } from '../shared/events.js';
import type { Database, TasksTable } from './db.js';
import type { CreateTask, ListTasksQuery, UpdateTask } from './schemas.js';

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

/** The API shape of a row. */
export function toTaskData(row: Selectable<TasksTable>): TaskData {
  return {
    id: row.id,
    user_id: row.user_id,
    title: row.title,
    description: row.description,
    status: row.status,
    priority: row.priority,
    tags: row.tags,
    due_at: iso(row.due_at),
    remind_at: iso(row.remind_at),
    recurrence: row.recurrence,
    recurrence_parent_id: row.recurrence_parent_id,
    completed_at: iso(row.completed_at),
    created_at: iso(row.created_at) ?? '',
    updated_at: iso(row.updated_at) ?? '',
  };
}

/** Writes an event to the outbox inside `trx`. */
export async function enqueue(trx: Transaction<Database>, topic: string, payload: unknown): Promise<void> {
  await trx.insertInto('outbox_events').values({ id: randomUUID(), topic, payload: JSON.stringify(payload) }).execute();
}

async function recordChange(trx: Transaction<Database>, type: TaskEventType, task: TaskData): Promise<void> {
  const event = taskEvent(type, task);
  await enqueue(trx, TOPICS.taskEvents, event);
  await enqueue(trx, TOPICS.auditLogs, { ...event, action: type });
}

/** The outcome of a create: `created` false when a recurrence successor already existed. */
export interface CreateResult {
  task: TaskData;
  created: boolean;
}

/** Task operations for one database. */
export class TaskRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a task; a second create for the same `recurrence_parent_id` returns the first. */
  async create(userId: string, input: CreateTask): Promise<CreateResult> {
    const parentId = input.recurrence_parent_id;
    const existingSuccessor = async () =>
      parentId ? await this.db.selectFrom('tasks').selectAll().where('recurrence_parent_id', '=', parentId).executeTakeFirst() : undefined;
    const before = await existingSuccessor();
    if (before) return { task: toTaskData(before), created: false };
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('tasks')
          .values({
            id: randomUUID(),
            user_id: userId,
            title: input.title,
            description: input.description ?? null,
            priority: input.priority,
            status: 'pending',
            tags: JSON.stringify(input.tags),
            due_at: input.due_at ?? null,
            remind_at: input.remind_at ?? null,
            recurrence: input.recurrence ? JSON.stringify(input.recurrence) : null,
            recurrence_parent_id: parentId ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (parentId) await trx.updateTable('tasks').set({ next_occurrence_id: row.id }).where('id', '=', parentId).execute();
        const task = toTaskData(row);
        await recordChange(trx, 'task.created', task);
        return { task, created: true };
      });
    } catch (err) {
      // Two creators of the same successor (the event and the hourly sweep) raced: the other won.
      if ((err as { code?: string }).code === '23505') {
        const winner = await existingSuccessor();
        if (winner) return { task: toTaskData(winner), created: false };
      }
      throw err;
    }
  }

  /** One task of a user, or undefined. */
  async get(userId: string, id: string): Promise<TaskData | undefined> {
    const row = await this.db.selectFrom('tasks').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return row ? toTaskData(row) : undefined;
  }

  /** A user's tasks, filtered, newest first. */
  async list(userId: string, q: ListTasksQuery): Promise<TaskData[]> {
    let query = this.db.selectFrom('tasks').selectAll().where('user_id', '=', userId);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.priority) query = query.where('priority', '=', q.priority);
    if (q.tag) query = query.where(sql<boolean>`tags @> ${JSON.stringify([q.tag])}::jsonb`);
    if (q.due_before) query = query.where('due_at', '<', new Date(q.due_before));
    if (q.due_after) query = query.where('due_at', '>=', new Date(q.due_after));
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(q.limit).execute();
    return rows.map(toTaskData);
  }

  /** Applies a change; completing through `status` counts as completion. */
  async update(userId: string, id: string, change: UpdateTask): Promise<TaskData | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('tasks').selectAll().where('id', '=', id).where('user_id', '=', userId).forUpdate().executeTakeFirst();
      if (!before) return undefined;
      const completing = change.status === 'completed' && before.status !== 'completed';
      const row = await trx
        .updateTable('tasks')
        .set({
          ...(change.title !== undefined ? { title: change.title } : {}),
          ...(change.description !== undefined ? { description: change.description } : {}),
          ...(change.status !== undefined ? { status: change.status } : {}),
          ...(change.priority !== undefined ? { priority: change.priority } : {}),
          ...(change.tags !== undefined ? { tags: JSON.stringify(change.tags) } : {}),
          ...(change.due_at !== undefined ? { due_at: change.due_at } : {}),
          // A new reminder time re-arms the reminder.
          ...(change.remind_at !== undefined ? { remind_at: change.remind_at, reminder_sent_at: null } : {}),
          ...(change.recurrence !== undefined ? { recurrence: change.recurrence ? JSON.stringify(change.recurrence) : null } : {}),
          ...(completing ? { completed_at: new Date() } : change.status !== undefined && change.status !== 'completed' ? { completed_at: null } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const task = toTaskData(row);
      await recordChange(trx, completing ? 'task.completed' : 'task.updated', task);
      return task;
    });
  }

  /** Marks a task completed (idempotent: completing a completed task changes nothing). */
  async complete(userId: string, id: string): Promise<{ task: TaskData; changed: boolean } | undefined> {
    const current = await this.get(userId, id);
    if (!current) return undefined;
    if (current.status === 'completed') return { task: current, changed: false };
    const task = await this.update(userId, id, { status: 'completed' });
    return task ? { task, changed: true } : undefined;
  }

  /** Deletes a task; false when it did not exist. */
  async delete(userId: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('tasks').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst();
      if (!row) return false;
      await recordChange(trx, 'task.deleted', toTaskData(row));
      return true;
    });
  }

  /**
   * Claims the tasks whose reminder is due (not completed, not yet reminded) and queues a
   * `reminders` event for each, in one transaction, so each reminder is sent once.
   */
  async claimDueReminders(now = new Date(), limit = 100): Promise<TaskData[]> {
    return this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('tasks')
        .select('id')
        .where('remind_at', '<=', now)
        .where('reminder_sent_at', 'is', null)
        .where('status', '!=', 'completed')
        .orderBy('remind_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      if (due.length === 0) return [];
      const rows = await trx
        .updateTable('tasks')
        .set({ reminder_sent_at: now })
        .where('id', 'in', due.map((d) => d.id))
        .returningAll()
        .execute();
      const tasks = rows.map(toTaskData);
      for (const task of tasks) {
        const event = taskEvent('reminder.due', task, now);
        await enqueue(trx, TOPICS.reminders, event);
        await enqueue(trx, TOPICS.auditLogs, { ...event, action: 'reminder.due' });
      }
      return tasks;
    });
  }

  /** Completed recurring tasks that have no next occurrence yet (for the hourly catch-up). */
  async completedRecurringWithoutSuccessor(limit = 100): Promise<TaskData[]> {
    const rows = await this.db
      .selectFrom('tasks as t')
      .selectAll('t')
      .where('t.status', '=', 'completed')
      .where('t.recurrence', 'is not', null)
      .where('t.next_occurrence_id', 'is', null)
      .orderBy('t.completed_at')
      .limit(limit)
      .execute();
    return rows.map(toTaskData);
  }

  /** Daily cleanup: completed tasks older than `days` and published outbox rows older than a day. */
  async cleanup(days: number, now = new Date()): Promise<{ tasks: number; outbox: number }> {
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const tasks = await this.db.deleteFrom('tasks').where('status', '=', 'completed').where('completed_at', '<', cutoff).executeTakeFirst();
    const outbox = await this.db
      .deleteFrom('outbox_events')
      .where('published_at', 'is not', null)
      .where('published_at', '<', new Date(now.getTime() - 86_400_000))
      .executeTakeFirst();
    return { tasks: Number(tasks.numDeletedRows), outbox: Number(outbox.numDeletedRows) };
  }
}
