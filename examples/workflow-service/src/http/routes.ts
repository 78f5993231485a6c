/**
 * REST routes for workflow definitions, their tasks and execution history. Status codes follow the
 * seed (FastAPI): 201 on create, 200 on read and update, 204 on delete, 404 for an unknown id, 422
 * for a request that fails validation, and 409 for a duplicate name.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TaskInput, WorkflowInput, WorkflowPatch } from '../definitions/model.js';
import type { DefinitionService } from '../definitions/service.js';
import type { ExecutionService } from '../executions/service.js';
import type { ExecutionStore } from '../executions/store.js';
import { ErrorBody, ExecutionEventView, ExecutionParams, ExecutionSummary, ExecutionView, Paging, TaskParams, TaskView, WorkflowList, WorkflowParams, WorkflowView } from './schemas.js';

/** What the routes use. */
export interface RouteDeps {
  definitions: DefinitionService;
  executions: ExecutionService;
  store: ExecutionStore;
}

const errors = { 404: ErrorBody, 409: ErrorBody, 422: ErrorBody };

/** Registers every route on `app`. */
export function registerRoutes(fastify: FastifyInstance, { definitions, executions, store }: RouteDeps): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.post('/workflows', { schema: { tags: ['workflows'], summary: 'Create a workflow (optionally with its tasks)', body: WorkflowInput, response: { 201: WorkflowView, ...errors } } }, async (req, reply) =>
    reply.code(201).send(await definitions.create(req.body)),
  );

  app.get('/workflows', { schema: { tags: ['workflows'], summary: 'List workflows, newest first', querystring: Paging, response: { 200: WorkflowList, 422: ErrorBody } } }, async (req) =>
    definitions.list(req.query.limit, req.query.offset),
  );

  app.get(
    '/workflows/:workflowId',
    { schema: { tags: ['workflows'], summary: 'Get a workflow with its tasks (cached; `x-cache` says hit or miss)', params: WorkflowParams, response: { 200: WorkflowView, ...errors } } },
    async (req, reply) => {
      const { workflow, cache } = await definitions.get(req.params.workflowId);
      return reply.header('x-cache', cache).send(workflow);
    },
  );

  app.put('/workflows/:workflowId', { schema: { tags: ['workflows'], summary: 'Update name and/or description', params: WorkflowParams, body: WorkflowPatch, response: { 200: WorkflowView, ...errors } } }, async (req) =>
    definitions.update(req.params.workflowId, req.body),
  );

  app.delete('/workflows/:workflowId', { schema: { tags: ['workflows'], summary: 'Delete a workflow and its tasks (execution history is kept)', params: WorkflowParams, response: { 204: z.null(), ...errors } } }, async (req, reply) => {
    await definitions.delete(req.params.workflowId);
    return reply.code(204).send(null);
  });

  app.get('/workflows/:workflowId/tasks', { schema: { tags: ['tasks'], summary: "A workflow's tasks in execution order", params: WorkflowParams, response: { 200: z.array(TaskView), ...errors } } }, async (req) =>
    (await definitions.get(req.params.workflowId)).workflow.tasks,
  );

  app.post('/workflows/:workflowId/tasks', { schema: { tags: ['tasks'], summary: 'Add a task', params: WorkflowParams, body: TaskInput, response: { 201: TaskView, ...errors } } }, async (req, reply) =>
    reply.code(201).send(await definitions.addTask(req.params.workflowId, req.body)),
  );

  app.get('/workflows/:workflowId/tasks/:taskId', { schema: { tags: ['tasks'], summary: 'Get a task', params: TaskParams, response: { 200: TaskView, ...errors } } }, async (req) =>
    definitions.task(req.params.workflowId, req.params.taskId),
  );

  app.put('/workflows/:workflowId/tasks/:taskId', { schema: { tags: ['tasks'], summary: 'Replace a task', params: TaskParams, body: TaskInput, response: { 200: TaskView, ...errors } } }, async (req) =>
    definitions.replaceTask(req.params.workflowId, req.params.taskId, req.body),
  );

  app.delete('/workflows/:workflowId/tasks/:taskId', { schema: { tags: ['tasks'], summary: 'Delete a task', params: TaskParams, response: { 204: z.null(), ...errors } } }, async (req, reply) => {
    await definitions.deleteTask(req.params.workflowId, req.params.taskId);
    return reply.code(204).send(null);
  });

  app.get(
    '/workflows/:workflowId/executions',
    { schema: { tags: ['executions'], summary: "A workflow's executions, newest first", params: WorkflowParams, querystring: Paging, response: { 200: z.array(ExecutionSummary), 422: ErrorBody } } },
    async (req) => store.listForWorkflow(req.params.workflowId, req.query.limit, req.query.offset),
  );

  app.get('/executions/:executionId', { schema: { tags: ['executions'], summary: 'An execution with the status and result of each task', params: ExecutionParams, response: { 200: ExecutionView, ...errors } } }, async (req) =>
    executions.status(req.params.executionId),
  );

  app.get(
    '/executions/:executionId/events',
    { schema: { tags: ['executions'], summary: "An execution's status changes, oldest first (what ExecuteWorkflow streams)", params: ExecutionParams, response: { 200: z.array(ExecutionEventView), ...errors } } },
    async (req) => {
      await executions.status(req.params.executionId);
      return store.events(req.params.executionId);
    },
  );
}
