/** Structured JSON logs (pino), one logger per app with its name as `service`. */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/** A logger named after the app (`order-worker` …). */
export function createLogger(service: string, level: string): Logger {
  return pino({ level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
