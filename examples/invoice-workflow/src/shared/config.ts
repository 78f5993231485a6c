/**
 * Configuration from the environment, read once at start-up and validated, so a typo stops the
 * process with a message instead of misbehaving later. Paths default to folders of this example, so
 * the apps behave the same whatever directory they are started from.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The example's root folder (`examples/invoice-workflow`). */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `10m`, `24h` (a bare number is seconds). */
export function parseDurationSeconds(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new Error(`expected a duration such as 30s, 10m or 24h, got "${raw}"`);
  return (Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000)) / 1000;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const Env = z.object({
  APP_PORT: port(8080),
  DAPR_HTTP_PORT: port(3500),
  DAPR_GRPC_PORT: port(50001),
  /** Where uploaded PDFs, split pages and results are written; shared by the services (the seed's `/artifacts`). */
  ARTIFACTS_DIR: z.string().default(path.join(EXAMPLE_DIR, 'artifacts')),
  /** Where `pdf_path` is looked up by upload-service. */
  INVOICE_INBOX: z.string().default(path.join(EXAMPLE_DIR, 'samples')),
  /** Invoices with a total above this wait for an `approval` event. */
  APPROVAL_THRESHOLD: z.coerce.number().nonnegative().default(1000),
  /** How long they wait before being rejected. */
  APPROVAL_TIMEOUT: z.string().default('1h').transform((v, ctx) => {
    try {
      return parseDurationSeconds(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  /** Artificial latency per page in extract-service (a slow OCR backend); tests use it to crash mid-fan-out. */
  EXTRACT_DELAY_MS: z.coerce.number().int().nonnegative().default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

/** The validated configuration. */
export type Config = z.infer<typeof Env>;

/** Reads and validates the configuration; exits with a readable message when it is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, ARTIFACTS_DIR: path.resolve(parsed.data.ARTIFACTS_DIR), INVOICE_INBOX: path.resolve(parsed.data.INVOICE_INBOX) };
}

/**
 * Resolves `relative` inside `root`, refusing anything that escapes it (`..`, absolute paths): paths
 * arrive in requests and must not reach the rest of the disk.
 */
export function insideDir(root: string, relative: string): string {
  const resolved = path.resolve(root, relative);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) throw new PathOutsideError(relative, root);
  return resolved;
}

/** A request named a file outside the folder it may use. */
export class PathOutsideError extends Error {
  constructor(relative: string, root: string) {
    super(`path "${relative}" is outside ${root}`);
    this.name = 'PathOutsideError';
  }
}
