/**
 * The API apps' HTTP plumbing: Fastify with our pino logger, zod validation answered with 400,
 * domain errors with their status, `/health` (database reachable) and the parked dead letters.
 */
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { ping } from './db.js';
import type { EventTables } from './db.js';
import type { Logger } from './logger.js';

/** An error with an HTTP status and a stable code (`ORDER_NOT_FOUND` …). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parses `value` with `schema`, or throws a 400 that lists every problem. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new HttpError(400, 'VALIDATION_FAILED', details.join('; '));
}

/** A Fastify app with the example's error shape `{ error: { code, message } }`. */
export function createApi(logger: Logger): FastifyInstance {
  const app: FastifyInstance = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof HttpError) return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return reply.status(status).send({ error: { code: 'BAD_REQUEST', message: (err as Error).message } });
    request.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  return app;
}

/** `GET /health` and `GET /v1/dead-letters`. */
export function registerOpsRoutes(app: FastifyInstance, db: Kysely<EventTables>): void {
  app.get('/health', async (_request, reply) => {
    try {
      await ping(db as unknown as Kysely<unknown>);
      return { status: 'ok' };
    } catch (err) {
      return reply.status(503).send({ status: 'unavailable', error: (err as Error).message });
    }
  });
  app.get('/v1/dead-letters', async () => {
    const rows = await db.selectFrom('dead_letters').selectAll().orderBy('received_at').execute();
    return { deadLetters: rows.map((r) => ({ id: r.id, topic: r.topic, receivedAt: r.received_at, payload: JSON.parse(r.payload) as unknown })) };
  });
}

/** Listens on `HOST` (default 127.0.0.1; 0.0.0.0 in a pod) and `port`. */
export async function listen(app: FastifyInstance, port: number, host: string): Promise<void> {
  await app.listen({ port, host });
}
