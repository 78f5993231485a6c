/** Request schemas of the task API (zod), also the source of the OpenAPI document. */
import { z } from 'zod';
import { RecurrenceSchema } from '../shared/events.js';

const Tag = z.string().trim().min(1).max(40);
const Instant = z.iso.datetime({ offset: true });

/** `x-user-id`: who the request acts for (stand-in for an authenticated identity). */
export const UserIdSchema = z.string().regex(/^[\w.@-]{1,64}$/, 'x-user-id must be 1-64 characters of letters, digits, _ . @ -');

/** POST /api/tasks */
export const CreateTaskSchema = z.object({
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000).nullish(),
  priority: z.enum(['low', 'medium', 'high']).default('medium'),
  tags: z.array(Tag).max(20).default([]),
  due_at: Instant.nullish(),
  remind_at: Instant.nullish(),
  recurrence: RecurrenceSchema.nullish(),
  /** Set by recurring-task-service when it creates the next occurrence. */
  recurrence_parent_id: z.string().min(1).nullish(),
});
export type CreateTask = z.infer<typeof CreateTaskSchema>;

/** PATCH /api/tasks/:id */
export const UpdateTaskSchema = z
  .object({
    title: z.string().trim().min(1).max(200),
    description: z.string().max(5000).nullable(),
    status: z.enum(['pending', 'in_progress', 'completed']),
    priority: z.enum(['low', 'medium', 'high']),
    tags: z.array(Tag).max(20),
    due_at: Instant.nullable(),
    remind_at: Instant.nullable(),
    recurrence: RecurrenceSchema.nullable(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, 'give at least one field to change');
export type UpdateTask = z.infer<typeof UpdateTaskSchema>;

/** GET /api/tasks query */
export const ListTasksQuerySchema = z.object({
  status: z.enum(['pending', 'in_progress', 'completed']).optional(),
  priority: z.enum(['low', 'medium', 'high']).optional(),
  tag: Tag.optional(),
  due_before: Instant.optional(),
  due_after: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuerySchema>;

/** POST /api/conversations/:id/messages */
export const AddMessageSchema = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.string().min(1).max(10_000),
});

/** Path parameter `:id`. */
export const IdParamSchema = z.object({ id: z.string().min(1).max(100) });
