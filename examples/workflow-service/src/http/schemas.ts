/** Response and parameter schemas of the REST API (requests reuse `definitions/model.ts`). */
import { z } from 'zod';

const RunStatus = z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED']);

export const WorkflowParams = z.object({ workflowId: z.uuid() });
export const TaskParams = z.object({ workflowId: z.uuid(), taskId: z.uuid() });
export const ExecutionParams = z.object({ executionId: z.uuid() });
export const Paging = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const TaskView = z
  .object({
    id: z.uuid(),
    workflow_id: z.uuid(),
    name: z.string(),
    sequence: z.number().int(),
    execution_type: z.enum(['sync', 'async']),
    kind: z.enum(['http', 'delay', 'transform']),
    config: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Task' });

const workflowFields = {
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
};
export const WorkflowSummary = z.object(workflowFields).meta({ id: 'WorkflowSummary' });
export const WorkflowView = z.object({ ...workflowFields, tasks: z.array(TaskView) }).meta({ id: 'Workflow' });
export const WorkflowList = z.object({ items: z.array(WorkflowSummary), total: z.number().int() });

const executionFields = {
  id: z.uuid(),
  workflow_id: z.uuid(),
  workflow_name: z.string(),
  status: RunStatus,
  error: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
};
export const TaskRunView = z.object({
  task_id: z.uuid(),
  name: z.string(),
  sequence: z.number().int(),
  execution_type: z.enum(['sync', 'async']),
  kind: z.enum(['http', 'delay', 'transform']),
  status: RunStatus,
  result: z.unknown(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export const ExecutionSummary = z.object(executionFields).meta({ id: 'ExecutionSummary' });
export const ExecutionView = z.object({ ...executionFields, tasks: z.array(TaskRunView) }).meta({ id: 'Execution' });
export const ExecutionEventView = z.object({
  id: z.number().int(),
  execution_id: z.uuid(),
  task_id: z.uuid().nullable(),
  task_name: z.string().nullable(),
  status: RunStatus,
  message: z.string().nullable(),
  result: z.unknown(),
  at: z.string(),
});

/** Errors: `detail` is a message, or for 422 the list of problems (FastAPI's shape, as in the seed). */
export const ErrorBody = z
  .object({
    detail: z.union([z.string(), z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() }))]),
  })
  .meta({ id: 'Error' });
