/**
 * Settings every app of the example reads from its environment, with the defaults of the seed.
 * Read once at start-up through an injected environment so tests never mutate `process.env`.
 */
import path from 'node:path';

/** The environment an app reads its settings from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Settings shared by the API apps and the workers. */
export interface CommonConfig {
  /** Dapr pub/sub component name. @default 'pubsub-redis' (the seed's) */
  pubsubName: string;
  /** Prefix for every topic, so parallel test runs on one broker never meet. @default '' */
  topicPrefix: string;
  /** `postgres://…` for Postgres; otherwise an embedded SQLite file under `dataDir`. */
  databaseUrl: string | undefined;
  /** Postgres: the service's schema (one database, a schema per service). */
  databaseSchema: string | undefined;
  /** Where embedded databases live. @default './.data' */
  dataDir: string;
  /** pino level. @default 'info' */
  logLevel: string;
  /** How often the outbox relay looks for events not yet published. @default 2000 */
  outboxIntervalMs: number;
}

/** A positive integer from the environment, or the fallback. */
export function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** The settings shared by every app. */
export function commonConfig(env: Env): CommonConfig {
  return {
    pubsubName: env['PUBSUB_NAME'] || 'pubsub-redis',
    topicPrefix: env['TOPIC_PREFIX'] ?? '',
    databaseUrl: env['DATABASE_URL'] || undefined,
    databaseSchema: env['DATABASE_SCHEMA'] || undefined,
    dataDir: path.resolve(env['DATA_DIR'] || '.data'),
    logLevel: env['LOG_LEVEL'] || 'info',
    outboxIntervalMs: intFrom(env, 'OUTBOX_INTERVAL_MS', 2000),
  };
}

/** The value of `--name value` or `--name=value` in argv, if given. */
export function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === `--${name}` || arg === `-${name}`) return argv[i + 1];
    if (arg?.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
