/**
 * The shape of workflow definitions, as zod schemas: the REST API validates requests with them and
 * documents them in OpenAPI, and the engine re-validates stored task configuration before it runs.
 */
import { z } from 'zod';

/** A task's name: referenced by later tasks (`input_from`), so it is a plain identifier. */
export const TaskName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must start with a letter and hold only letters, digits, "_" and "-" (at most 64)');

/** Calls a method of another app through service invocation (`/v1.0/invoke/{app_id}/method/{method}`). */
export const HttpTaskConfig = z
  .object({
    app_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a Dapr app id'),
    method: z.string().min(1).max(512).describe('path of the method on the target app, e.g. "orders/42"'),
    verb: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    body: z.unknown().optional().describe('JSON body sent to the method'),
    input_from: TaskName.optional().describe('send the result of this earlier task as the body instead'),
    timeout_ms: z.number().int().positive().max(300_000).optional(),
  })
  .strict();

/** Waits on a durable timer: survives restarts of the app and of its sidecar. */
export const DelayTaskConfig = z.object({ seconds: z.number().positive().max(86_400) }).strict();

/** The built-in transforms (pure functions; no shell, no code from the request). */
export const TransformOperation = z.enum(['uppercase', 'lowercase', 'reverse', 'length', 'sum', 'pick', 'template']);

/** Applies a built-in transform to a literal `input` or to an earlier task's result. */
export const TransformTaskConfig = z
  .object({
    operation: TransformOperation,
    input: z.unknown().optional(),
    input_from: TaskName.optional().describe('use the result of this earlier task as the input'),
    path: z.string().min(1).optional().describe('for "pick": a dotted path such as "customer.name"'),
    template: z.string().optional().describe('for "template": text with {{field}} placeholders filled from the input object'),
  })
  .strict()
  .refine((c) => c.operation !== 'pick' || c.path !== undefined, { message: '"pick" needs "path"', path: ['path'] })
  .refine((c) => c.operation !== 'template' || c.template !== undefined, { message: '"template" needs "template"', path: ['template'] });

const taskCommon = {
  name: TaskName,
  sequence: z.number().int().min(1).max(10_000).describe('tasks run in ascending sequence order'),
  execution_type: z.enum(['sync', 'async']).default('sync').describe('neighbouring "async" tasks of one sequence run in parallel'),
};

/** A task as the API accepts it: the `kind` decides the shape of `config`. */
export const TaskInput = z.discriminatedUnion('kind', [
  z.object({ ...taskCommon, kind: z.literal('http'), config: HttpTaskConfig }).strict(),
  z.object({ ...taskCommon, kind: z.literal('delay'), config: DelayTaskConfig }).strict(),
  z.object({ ...taskCommon, kind: z.literal('transform'), config: TransformTaskConfig }).strict(),
]);
export type TaskInput = z.infer<typeof TaskInput>;

/** Validates a stored `kind` + `config` pair (a row written by an older version may not fit). */
export function parseTaskConfig(kind: string, config: unknown): TaskInput['config'] {
  switch (kind) {
    case 'http':
      return HttpTaskConfig.parse(config);
    case 'delay':
      return DelayTaskConfig.parse(config);
    case 'transform':
      return TransformTaskConfig.parse(config);
    default:
      throw new Error(`unknown task kind "${kind}"`);
  }
}

/** A workflow as the API accepts it on creation (tasks optional; they can be added later). */
export const WorkflowInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable().optional(),
    tasks: z.array(TaskInput).max(200).default([]),
  })
  .strict()
  .refine((w) => new Set(w.tasks.map((t) => t.name)).size === w.tasks.length, { message: 'task names must be unique within a workflow', path: ['tasks'] });
export type WorkflowInput = z.infer<typeof WorkflowInput>;

/** A workflow update: the fields given are replaced. */
export const WorkflowPatch = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
  })
  .strict()
  .refine((p) => p.name !== undefined || p.description !== undefined, { message: 'give "name" or "description"' });
export type WorkflowPatch = z.infer<typeof WorkflowPatch>;

/** A stored task. */
export interface Task {
  id: string;
  workflow_id: string;
  name: string;
  sequence: number;
  execution_type: 'sync' | 'async';
  kind: 'http' | 'delay' | 'transform';
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** A stored workflow with its tasks in execution order. */
export interface Workflow {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
  tasks: Task[];
}
