/**
 * Configuration from environment variables, validated once at start-up so that a typo fails fast
 * with the variable's name instead of surfacing later as a connection error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const schema = z.object({
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port.default(8000),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: port.default(50051),
  /** Production Postgres. Unset: an embedded Postgres (PGlite) in `PGLITE_DATA_DIR`. */
  DATABASE_URL: optionalUrl,
  /** Schema that holds the tables (and the migration bookkeeping). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier').default('public'),
  /** Folder of the embedded Postgres; `memory://` keeps it in memory. */
  PGLITE_DATA_DIR: z.string().default('.data/pglite'),
  /** Redis for the definition cache. Unset: an in-process cache with the same rules. */
  REDIS_URL: optionalUrl,
  REDIS_KEY_PREFIX: z.string().default('workflow-service:'),
  CACHE_TTL_SECONDS: z.coerce.number().int().positive().default(300),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: port.default(3500),
  DAPR_GRPC_PORT: port.default(50001),
  /** How long to wait for the Weft (or Dapr) sidecar at start-up. */
  SIDECAR_WAIT_SECONDS: z.coerce.number().positive().default(60),
  /** How often the workflow worker checks that its sidecar has not restarted (see executions/worker.ts). */
  SIDECAR_CHECK_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
  HTTP_TASK_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The validated configuration. */
export type Config = z.infer<typeof schema>;

/**
 * Reads `.env` from the working directory (when present; real environment variables win) and
 * validates the environment. Throws one error listing every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = path.resolve('.env')): Config {
  const merged = { ...readEnvFile(envFile), ...env };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  return parsed.data;
}

function readEnvFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const values: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    values[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}
