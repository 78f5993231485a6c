/** Execution time per operation, logged as the seed does (milliseconds, with the outcome). */
import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `operation` and logs `{ operation, durationMs, outcome }` at info when it succeeds and at
 * warn when it throws (the error is rethrown for the error handler).
 */
export async function timed<T>(log: FastifyBaseLogger, operation: string, run: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  try {
    const result = await run();
    log.info({ operation, durationMs: Number(elapsed().toFixed(2)), outcome: 'ok' }, `${operation} completed`);
    return result;
  } catch (err) {
    log.warn({ operation, durationMs: Number(elapsed().toFixed(2)), outcome: 'error', error: (err as Error).message }, `${operation} failed`);
    throw err;
  }
}
