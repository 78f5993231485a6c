/** The OpenAPI 3.1 document of the task API, generated from the zod schemas the handlers use. */
import { z } from 'zod';
import { TaskDataSchema } from '../shared/events.js';
import { AddMessageSchema, CreateTaskSchema, ListTasksQuerySchema, UpdateTaskSchema } from './schemas.js';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'input') => ({
  'application/json': { schema: z.toJSONSchema(schema, { io, unrepresentable: 'any' }) },
});

const userHeader = { name: 'x-user-id', in: 'header', required: true, schema: { type: 'string' }, description: 'The user the request acts for' };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const errors = {
  '400': { description: 'Invalid request (body lists the problems)' },
  '429': { description: 'More than the per-user limit of requests in a minute' },
};

/** Builds the document once. */
export function openApiDocument(): Record<string, unknown> {
  const task = json(TaskDataSchema, 'output');
  const listQuery = z.toJSONSchema(ListTasksQuerySchema, { io: 'input' }) as { properties?: Record<string, unknown> };
  return {
    openapi: '3.1.0',
    info: { title: 'todo-backend', version: '1.0.0', description: 'Tasks per user, on Weft (the Dapr API).' },
    paths: {
      '/api/tasks': {
        get: {
          summary: 'List tasks, filtered by status, priority, tag and due date',
          parameters: [userHeader, ...Object.entries(listQuery.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema }))],
          responses: { '200': { description: 'Tasks', content: json(z.object({ tasks: z.array(TaskDataSchema) }), 'output') }, ...errors },
        },
        post: {
          summary: 'Create a task',
          parameters: [userHeader],
          requestBody: { required: true, content: json(CreateTaskSchema) },
          responses: { '201': { description: 'Created', content: task }, '200': { description: 'The existing next occurrence', content: task }, ...errors },
        },
      },
      '/api/tasks/{id}': {
        get: { summary: 'One task (cached)', parameters: [userHeader, idParam], responses: { '200': { description: 'Task', content: task }, '404': { description: 'No such task' }, ...errors } },
        patch: {
          summary: 'Change a task',
          parameters: [userHeader, idParam],
          requestBody: { required: true, content: json(UpdateTaskSchema) },
          responses: { '200': { description: 'Task', content: task }, '404': { description: 'No such task' }, ...errors },
        },
        delete: { summary: 'Delete a task', parameters: [userHeader, idParam], responses: { '204': { description: 'Deleted' }, '404': { description: 'No such task' }, ...errors } },
      },
      '/api/tasks/{id}/complete': {
        post: { summary: 'Complete a task', parameters: [userHeader, idParam], responses: { '200': { description: 'Task', content: task }, '404': { description: 'No such task' }, ...errors } },
      },
      '/api/notifications': {
        get: { summary: "The user's delivered notifications (from notification-service)", parameters: [userHeader], responses: { '200': { description: 'Notifications' } } },
      },
      '/api/conversations': { post: { summary: 'Start a conversation', parameters: [userHeader], responses: { '201': { description: 'Conversation' } } } },
      '/api/conversations/{id}': { get: { summary: 'Read a conversation', parameters: [userHeader, idParam], responses: { '200': { description: 'Conversation' }, '404': { description: 'No such conversation' } } } },
      '/api/conversations/{id}/messages': {
        post: {
          summary: 'Add a message',
          parameters: [userHeader, idParam],
          requestBody: { required: true, content: json(AddMessageSchema) },
          responses: { '200': { description: 'Conversation' }, '404': { description: 'No such conversation' } },
        },
      },
    },
  };
}
