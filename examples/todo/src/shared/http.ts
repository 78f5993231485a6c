/** The Fastify server every service of the platform uses: pino JSON logs, no per-request lines. */
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';

/** A Fastify instance logging at `level` (default `LOG_LEVEL`, else info). */
export function createServer(level?: string): FastifyInstance {
  const app = Fastify({
    logger: { level: level ?? process.env['LOG_LEVEL'] ?? 'info' },
    // Request lines would drown the useful ones (the rate-limit test alone makes 60 requests).
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Dapr delivers pub/sub events as application/cloudevents+json, and cron bindings POST an empty
  // body labelled application/json, which Fastify's own parser refuses.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/cloudevents+json'], { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      const error = err as Error & { statusCode?: number };
      error.statusCode = 400;
      done(error);
    }
  });
  return app;
}
