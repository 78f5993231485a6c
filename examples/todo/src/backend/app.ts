/**
 * The todo-backend HTTP app: the task API (zod-validated, per-user rate limit, cached reads),
 * conversations, the cron binding routes and the web page. Dependencies come in through
 * {@link BackendDeps} so the same app runs on PGlite or PostgreSQL.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpMethod } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { APP_IDS } from '../shared/config.js';
import type { TaskData } from '../shared/events.js';
import type { StateClient } from '../shared/state.js';
import { TaskCache } from './cache.js';
import { ConversationService } from './conversations.js';
import type { Database } from './db.js';
import { openApiDocument } from './openapi.js';
import { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limit.js';
import { AddMessageSchema, CreateTaskSchema, IdParamSchema, ListTasksQuerySchema, UpdateTaskSchema, UserIdSchema } from './schemas.js';
import { serveWebPage } from './static.js';
import { TaskRepository } from './tasks.js';
import { createServer } from '../shared/http.js';

/** What the app needs from the outside. */
export interface BackendDeps {
  db: Kysely<Database>;
  dapr: DaprClient;
  state: StateClient;
  /** The pub/sub component the outbox publishes to. */
  pubsub: string;
  rateLimit: { limit: number; windowSeconds: number };
  cacheTtlSeconds: number;
  /** Completed tasks older than this many days are removed by the daily cleanup. */
  retentionDays: number;
  logLevel?: string;
}

/** A 4xx with a JSON body. */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpError(400, `invalid ${what}`, result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

function userOf(req: FastifyRequest): string {
  return parse(UserIdSchema, req.headers['x-user-id'], 'x-user-id header');
}

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Builds the Fastify app (not listening) and its outbox publisher (not started). */
export function buildBackend(deps: BackendDeps): { app: FastifyInstance; outbox: Outbox } {
  const app = createServer(deps.logLevel);
  const outbox = new Outbox(deps.db, deps.dapr, deps.pubsub, app.log);
  const tasks = new TaskRepository(deps.db);
  const cache = new TaskCache(deps.state, deps.cacheTtlSeconds);
  const limiter = new RateLimiter(deps.state, deps.rateLimit.limit, deps.rateLimit.windowSeconds);
  const conversations = new ConversationService(deps.state);
  const openapi = openApiDocument();

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.message, details: err.details });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  // Every user-facing API call counts against the user's limit (the seed's 60 requests a minute).
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/api/')) return;
    const user = userOf(req);
    const decision = await limiter.hit(user);
    void reply.header('x-ratelimit-limit', decision.limit).header('x-ratelimit-remaining', decision.remaining);
    if (!decision.allowed) {
      req.log.info({ user }, 'rate limit exceeded');
      return reply.code(429).header('retry-after', decision.resetSeconds).send({ error: 'Rate limit exceeded', retry_after_seconds: decision.resetSeconds });
    }
  });

  /** Side effects of a change: the events are in the outbox; drop the cached copy, publish. */
  const changed = async (taskId: string) => {
    outbox.kick();
    await cache.invalidate(taskId);
  };

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/openapi.json', () => openapi);

  app.get('/api/tasks', async (req) => {
    const query = parse(ListTasksQuerySchema, req.query, 'query');
    return { tasks: await tasks.list(userOf(req), query) };
  });

  app.post('/api/tasks', async (req, reply) => {
    const user = userOf(req);
    const input = parse(CreateTaskSchema, req.body, 'task');
    const { task, created } = await tasks.create(user, input);
    if (created) {
      outbox.kick();
      // The seed's service invocation: recurring-task-service learns about new tasks. Its failure
      // must not fail the create (the hourly cron catches up), so it is logged, not thrown.
      await deps.dapr.invoker
        .invoke(APP_IDS.recurring, 'api/tasks/created', HttpMethod.POST, { task_id: task.id, user_id: user, recurrence: task.recurrence })
        .catch((err: unknown) => req.log.warn({ err, task: task.id }, 'recurring-task-service did not take the new task'));
    }
    return reply.code(created ? 201 : 200).send(task);
  });

  app.get('/api/tasks/:id', async (req, reply) => {
    const user = userOf(req);
    const { id } = parse(IdParamSchema, req.params, 'path');
    const cached = await cache.get(id).catch((err: unknown) => {
      req.log.warn({ err }, 'cache read failed; reading the database');
      return undefined;
    });
    if (cached && cached.user_id === user) return reply.header('x-cache', 'hit').send(cached);
    const task = await tasks.get(user, id);
    if (!task) throw new HttpError(404, `task ${id} not found`);
    await cache.put(task).catch((err: unknown) => req.log.warn({ err }, 'cache write failed'));
    return reply.header('x-cache', 'miss').send(task);
  });

  app.patch('/api/tasks/:id', async (req) => {
    const user = userOf(req);
    const { id } = parse(IdParamSchema, req.params, 'path');
    const change = parse(UpdateTaskSchema, req.body, 'change');
    const task = await tasks.update(user, id, change);
    if (!task) throw new HttpError(404, `task ${id} not found`);
    await changed(id);
    return task;
  });

  app.post('/api/tasks/:id/complete', async (req) => {
    const user = userOf(req);
    const { id } = parse(IdParamSchema, req.params, 'path');
    const result = await tasks.complete(user, id);
    if (!result) throw new HttpError(404, `task ${id} not found`);
    if (result.changed) await changed(id);
    return result.task;
  });

  app.delete('/api/tasks/:id', async (req, reply) => {
    const user = userOf(req);
    const { id } = parse(IdParamSchema, req.params, 'path');
    if (!(await tasks.delete(user, id))) throw new HttpError(404, `task ${id} not found`);
    await changed(id);
    return reply.code(204).send();
  });

  app.get('/api/notifications', async (req) => {
    const user = userOf(req);
    return deps.dapr.invoker.invoke(APP_IDS.notification, `api/notifications/${encodeURIComponent(user)}`, HttpMethod.GET);
  });

  app.post('/api/conversations', async (req, reply) => reply.code(201).send(await conversations.create(userOf(req))));
  app.get('/api/conversations/:id', async (req) => {
    const { id } = parse(IdParamSchema, req.params, 'path');
    const found = await conversations.get(userOf(req), id);
    if (!found) throw new HttpError(404, `conversation ${id} not found`);
    return found;
  });
  app.post('/api/conversations/:id/messages', async (req) => {
    const { id } = parse(IdParamSchema, req.params, 'path');
    const message = parse(AddMessageSchema, req.body, 'message');
    const updated = await conversations.addMessage(userOf(req), id, message);
    if (!updated) throw new HttpError(404, `conversation ${id} not found`);
    return updated;
  });

  // Internal routes for recurring-task-service (reached through service invocation; not rate limited).
  app.get('/internal/recurring/missing', async () => ({ tasks: await tasks.completedRecurringWithoutSuccessor() }));

  // Cron input bindings: Dapr probes with OPTIONS, then POSTs on every tick.
  const cron = (name: string, handler: () => Promise<unknown>) => {
    app.options(`/${name}`, (_req, reply) => reply.code(200).send());
    app.post(`/${name}`, async (req) => {
      const result = await handler();
      req.log.info({ binding: name, result }, 'cron job done');
      return { status: 'success', ...(typeof result === 'object' ? result : {}) };
    });
  };
  cron('reminder-checker-cron', async () => {
    const due: TaskData[] = await tasks.claimDueReminders();
    if (due.length > 0) outbox.kick();
    return { reminders: due.length };
  });
  cron('daily-cleanup-cron', async () => tasks.cleanup(deps.retentionDays));

  serveWebPage(app, process.env['TODO_WEB_ROOT'] ?? WEB_ROOT);
  return { app, outbox };
}
