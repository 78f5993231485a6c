/**
 * The common shell of the four services: a Fastify server on `APP_PORT` with structured logs, a
 * health route, zod validation of request bodies and one error shape (`{ error, code }`). A handler
 * throws {@link HttpError} for a request it refuses; anything else is a 500, which callers retry.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from './config.js';

/** An error with the HTTP status to answer. 4xx means "do not retry this request". */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Creates the server for one service, named in every log line. */
export function createService(name: string, config: Config): FastifyInstance {
  const app = Fastify({
    logger: { level: config.LOG_LEVEL, base: { service: name } },
    bodyLimit: 50 * 1024 * 1024,
    // One line per request is noise next to the sidecars' logs; handlers log what they did instead.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok', service: name }));
  // The sidecar asks every app for its pub/sub subscriptions at start-up; these apps have none.
  app.get('/dapr/subscribe', async () => []);
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    if (err instanceof HttpError) {
      req.log.warn({ code: err.code, err: err.message }, 'request refused');
      return reply.status(err.status).send({ error: err.message, code: err.code });
    }
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: err.message, code: 'bad_request' });
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: err.message, code: 'internal' });
  });
  return app;
}

/** Parses a body with a schema, answering 400 with every problem named. */
export function parseBody<T>(schema: z.ZodType<T>, req: FastifyRequest): T {
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** Listens on `APP_PORT` and stops cleanly on SIGTERM/SIGINT (what `weft run` sends). */
export async function listen(app: FastifyInstance, config: Config): Promise<void> {
  await app.listen({ port: config.APP_PORT, host: '127.0.0.1' });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app.close().then(() => process.exit(0));
    });
  }
}
