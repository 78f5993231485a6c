/** What every API app shares: config, logger, database, outbox relay over HTTP, listen, shutdown. */
import { DaprClient } from '@dapr/dapr';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { commonConfig, flag, intFrom } from './config.js';
import type { CommonConfig, Env } from './config.js';
import type { EventTables } from './db.js';
import { createApi, listen, registerOpsRoutes } from './http.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { OutboxRelay, daprPublisher, prefixTopics } from './outbox.js';
import type { TopicNamer } from './outbox.js';

/** Everything an API app's routes need. */
export interface ApiContext {
  config: CommonConfig;
  logger: Logger;
  app: FastifyInstance;
  relay: OutboxRelay;
  topic: TopicNamer;
  dapr: DaprClient;
}

/** Builds the context; the routes are registered by the caller before {@link runApi}. */
export function createApiContext(appId: string, db: Kysely<EventTables>, env: Env): ApiContext {
  const config = commonConfig(env);
  const logger = createLogger(appId, config.logLevel);
  const app = createApi(logger);
  registerOpsRoutes(app, db);
  const dapr = new DaprClient();
  const relay = new OutboxRelay(db, daprPublisher(dapr, config.pubsubName), logger, config.outboxIntervalMs);
  return { config, logger, app, relay, topic: prefixTopics(config.topicPrefix), dapr };
}

/** Listens on `--port`, `APP_PORT` or the seed's port, starts the relay, stops on signals. */
export async function runApi(ctx: ApiContext, db: Kysely<EventTables>, argv: readonly string[], env: Env, defaultPort: number): Promise<void> {
  const port = Number(flag(argv, 'port') ?? intFrom(env, 'APP_PORT', defaultPort));
  await listen(ctx.app, port, env['HOST'] || '127.0.0.1');
  ctx.relay.start();
  const shutdown = async () => {
    // A stuck close (a connection that never drains) must not keep the process alive.
    setTimeout(() => process.exit(1), 10_000).unref();
    await ctx.app.close();
    await ctx.relay.stop();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
