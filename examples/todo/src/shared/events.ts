/**
 * The event payloads the services exchange over pub/sub, with the seed's fields (`event_type`,
 * `task_id`, `task_data`, `user_id`, `timestamp`). Consumers validate them with these schemas.
 */
import { z } from 'zod';

/** Task lifecycle event types published on `task-events`. */
export const TASK_EVENT_TYPES = ['task.created', 'task.updated', 'task.completed', 'task.deleted'] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** A recurrence rule: every `interval` days, weeks or months. */
export const RecurrenceSchema = z.object({
  frequency: z.enum(['daily', 'weekly', 'monthly']),
  interval: z.number().int().min(1).max(365).default(1),
});
export type Recurrence = z.infer<typeof RecurrenceSchema>;

/** A task as the API returns it and events carry it. */
export const TaskDataSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(['pending', 'in_progress', 'completed']),
  priority: z.enum(['low', 'medium', 'high']),
  tags: z.array(z.string()),
  due_at: z.string().nullable(),
  remind_at: z.string().nullable(),
  recurrence: RecurrenceSchema.nullable(),
  recurrence_parent_id: z.string().nullable(),
  completed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type TaskData = z.infer<typeof TaskDataSchema>;

/** The payload on `task-events`, `reminders` and `audit-logs`. */
export const TaskEventSchema = z.object({
  event_type: z.string().min(1),
  task_id: z.string().min(1),
  task_data: z.record(z.string(), z.unknown()),
  user_id: z.string().min(1),
  timestamp: z.string().min(1),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

/** Builds an event with the seed's fields. */
export function taskEvent(eventType: string, task: TaskData, now = new Date()): TaskEvent {
  return { event_type: eventType, task_id: task.id, task_data: task, user_id: task.user_id, timestamp: now.toISOString() };
}
