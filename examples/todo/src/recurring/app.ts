/**
 * recurring-task-service: when a recurring task is completed it creates the next occurrence through
 * the backend (service invocation). It hears about completions on `task-events` and catches up
 * hourly (`recurring-task-cron`) on any it missed; the backend de-duplicates on the parent task id,
 * so a redelivered event or an overlapping sweep never creates two occurrences.
 */
import { HttpMethod } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { APP_IDS, COMPONENTS, TOPICS } from '../shared/config.js';
import type { TaskData } from '../shared/events.js';
import { RecurrenceSchema, TaskDataSchema, TaskEventSchema } from '../shared/events.js';
import type { Recurrence } from '../shared/events.js';
import { createServer } from '../shared/http.js';

/**
 * The next due date after `from` (UTC). Monthly rules keep the day of the month, clamped to the
 * month's last day: from 31 January, the next is 28 (or 29) February, not 3 March.
 */
export function nextOccurrence(from: Date, rule: Recurrence): Date {
  const next = new Date(from);
  if (rule.frequency === 'daily') next.setUTCDate(next.getUTCDate() + rule.interval);
  else if (rule.frequency === 'weekly') next.setUTCDate(next.getUTCDate() + 7 * rule.interval);
  else {
    const day = from.getUTCDate();
    next.setUTCDate(1);
    next.setUTCMonth(next.getUTCMonth() + rule.interval);
    const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
    next.setUTCDate(Math.min(day, lastDay));
  }
  return next;
}

/** Builds the app (not listening). */
export function buildRecurringService(deps: { dapr: DaprClient; logLevel?: string }): FastifyInstance {
  const app = createServer(deps.logLevel);
  const stats = { created: 0, registered: [] as string[] };

  /** Creates the successor of a completed recurring task (idempotent through the backend). */
  const createNext = async (task: TaskData) => {
    if (!task.recurrence) return undefined;
    const base = task.due_at ? new Date(task.due_at) : new Date(task.completed_at ?? Date.now());
    const due = nextOccurrence(base, task.recurrence);
    const reminderOffset = task.remind_at && task.due_at ? new Date(task.due_at).getTime() - new Date(task.remind_at).getTime() : undefined;
    const next = (await deps.dapr.invoker.invoke(
      APP_IDS.backend,
      'api/tasks',
      HttpMethod.POST,
      {
        title: task.title,
        description: task.description,
        priority: task.priority,
        tags: task.tags,
        due_at: due.toISOString(),
        remind_at: reminderOffset !== undefined ? new Date(due.getTime() - reminderOffset).toISOString() : null,
        recurrence: task.recurrence,
        recurrence_parent_id: task.id,
      },
      { headers: { 'x-user-id': task.user_id } },
    )) as TaskData;
    stats.created++;
    app.log.info({ parent: task.id, next: next.id, due: next.due_at }, 'next occurrence created');
    return next;
  };

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/dapr/subscribe', () => [{ pubsubname: COMPONENTS.pubsub, topic: TOPICS.taskEvents, route: '/events/task-events' }]);

  app.post('/events/task-events', async (req) => {
    const event = TaskEventSchema.safeParse((req.body as { data?: unknown } | undefined)?.data);
    if (!event.success) return { status: 'DROP' };
    if (event.data.event_type !== 'task.completed') return { status: 'SUCCESS' };
    const task = TaskDataSchema.safeParse(event.data.task_data);
    if (!task.success) return { status: 'DROP' };
    try {
      await createNext(task.data);
      return { status: 'SUCCESS' };
    } catch (err) {
      req.log.warn({ err, task: task.data.id }, 'could not create the next occurrence; retrying later');
      return { status: 'RETRY' };
    }
  });

  /** The seed's invocation target: the backend tells us about every new task. */
  app.post('/api/tasks/created', async (req, reply) => {
    const input = z.object({ task_id: z.string(), user_id: z.string(), recurrence: RecurrenceSchema.nullish() }).safeParse(req.body);
    if (!input.success) return reply.code(400).send({ error: 'invalid request', details: input.error.issues });
    const { recurrence, task_id } = input.data;
    if (recurrence) {
      req.log.info({ task: task_id, recurrence }, 'recurring task registered');
      // The last few, for the status endpoint.
      stats.registered = [task_id, ...stats.registered].slice(0, 100);
    }
    return { task_id, recurring: Boolean(recurrence) };
  });

  // Hourly catch-up: completed recurring tasks whose successor is missing.
  app.options('/recurring-task-cron', (_req, reply) => reply.code(200).send());
  app.post('/recurring-task-cron', async () => {
    const { tasks } = (await deps.dapr.invoker.invoke(APP_IDS.backend, 'internal/recurring/missing', HttpMethod.GET)) as { tasks: TaskData[] };
    let created = 0;
    for (const task of tasks) if (await createNext(task)) created++;
    app.log.info({ missing: tasks.length, created }, 'recurring sweep done');
    return { status: 'success', created };
  });
  app.get('/api/status', () => stats);
  return app;
}
