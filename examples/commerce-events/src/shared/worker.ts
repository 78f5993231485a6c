/**
 * What every worker shares: `--mode cron|event|all` with a per-service default, the event bus, the
 * outbox relay, the dead-letter sink, and shutdown on SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { commonConfig, flag, intFrom } from './config.js';
import type { CommonConfig, Env } from './config.js';
import { now } from './db.js';
import type { EventTables } from './db.js';
import { EventBus, chaosFromEnv } from './event-bus.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { OutboxRelay, daprPublisher, prefixTopics } from './outbox.js';
import type { TopicNamer } from './outbox.js';

/** Which half of a worker runs. */
export type WorkerMode = 'cron' | 'event' | 'all';
const MODES: readonly WorkerMode[] = ['cron', 'event', 'all'];

/** `--mode` (or `WORKER_MODE`), else the service's default. */
export function workerMode(argv: readonly string[], env: Env, fallback: WorkerMode): WorkerMode {
  const raw = flag(argv, 'mode') ?? env['WORKER_MODE'] ?? fallback;
  if (!MODES.includes(raw as WorkerMode)) throw new Error(`--mode must be one of ${MODES.join(', ')}, got "${raw}"`);
  return raw as WorkerMode;
}

/** Everything a worker's wiring needs. */
export interface WorkerContext {
  mode: WorkerMode;
  config: CommonConfig;
  logger: Logger;
  bus: EventBus;
  relay: OutboxRelay;
  topic: TopicNamer;
  /** True when the mode includes event consumers / cron jobs. */
  events: boolean;
  cron: boolean;
}

/** Builds the context: the gRPC port is `--port`, else `APP_PORT`, else the seed's 5005. */
export function createWorkerContext(appId: string, db: Kysely<EventTables>, defaultMode: WorkerMode, argv: readonly string[], env: Env): WorkerContext {
  const config = commonConfig(env);
  const logger = createLogger(appId, config.logLevel);
  const mode = workerMode(argv, env, defaultMode);
  const port = Number(flag(argv, 'port') ?? intFrom(env, 'APP_PORT', 5005));
  const bus = new EventBus({ port, logger, host: env['APP_HOST'] || '127.0.0.1', chaos: chaosFromEnv(env) });
  const relay = new OutboxRelay(db, daprPublisher(bus.client, config.pubsubName), logger, config.outboxIntervalMs);
  return { mode, config, logger, bus, relay, topic: prefixTopics(config.topicPrefix), events: mode !== 'cron', cron: mode !== 'event' };
}

/** Parks whatever arrives on the service's dead-letter topic in `dead_letters`, for `GET /v1/dead-letters`. */
export function addDeadLetterSink(ctx: WorkerContext, db: Kysely<EventTables>, deadLetterTopic: string): void {
  ctx.bus.addRawConsumer(deadLetterTopic, ctx.config.pubsubName, async (payload, { topic }) => {
    const id = typeof payload === 'object' && payload !== null && typeof (payload as { event_id?: unknown }).event_id === 'string' ? (payload as { event_id: string }).event_id : randomUUID();
    const existing = await db.selectFrom('dead_letters').select('id').where('id', '=', id).executeTakeFirst();
    if (!existing) await db.insertInto('dead_letters').values({ id, topic, payload: JSON.stringify(payload ?? null), received_at: now() }).execute();
    ctx.logger.error({ topic, eventId: id }, 'event parked in dead_letters');
  });
}

/** Starts the bus and the relay, logs what runs, and stops both on SIGTERM/SIGINT. */
export async function runWorker(ctx: WorkerContext, db: Kysely<EventTables>): Promise<void> {
  await ctx.bus.start();
  ctx.relay.start();
  ctx.logger.info({ mode: ctx.mode, ...ctx.bus.registrations }, 'worker running');
  const shutdown = async (signal: string) => {
    ctx.logger.info({ signal }, 'worker stopping');
    // A stuck close (a connection that never drains) must not keep the process alive.
    setTimeout(() => process.exit(1), 10_000).unref();
    await ctx.bus.stop().catch(() => undefined);
    await ctx.relay.stop();
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
