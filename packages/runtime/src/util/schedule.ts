/**
 * Schedules as Dapr's cron binding and Jobs API accept them: 6-field cron with seconds (5 fields
 * also work), `@every <duration>`, the `@daily`-style descriptors, and a `CRON_TZ=<zone>` prefix.
 * Cron expressions are parsed by `cron-parser`; `@every` is a plain interval.
 */
import type * as CronParser from 'cron-parser';
import { lazyModule } from './lazy-module.js';
import { parseDurationMs } from './duration.js';

/** Loaded by the first cron schedule, not by every sidecar. */
const cronParser = lazyModule<typeof CronParser>('cron-parser');

/** Thrown for a schedule that cannot be parsed. */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** A parsed schedule: the first firing strictly after a given instant, or undefined for never. */
export interface Schedule {
  next(after: Date): Date | undefined;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

/** Parses a schedule; throws {@link ScheduleError} naming what is wrong. */
export function parseSchedule(text: string): Schedule {
  let expression = text.trim();
  let tz: string | undefined;
  const tzMatch = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expression);
  if (tzMatch) {
    tz = tzMatch[1];
    expression = (tzMatch[2] ?? '').trim();
  }
  if (expression === '') throw new ScheduleError('schedule is empty');
  if (expression.startsWith('@every ')) {
    const ms = parseDurationMs(expression.slice('@every '.length));
    if (ms === undefined || ms <= 0) throw new ScheduleError(`invalid interval in schedule "${text}"`);
    return { next: (after) => new Date(after.getTime() + ms) };
  }
  const cron = DESCRIPTORS[expression] ?? expression;
  if (cron.startsWith('@')) throw new ScheduleError(`unknown descriptor in schedule "${text}"`);
  try {
    cronParser().CronExpressionParser.parse(cron, tz ? { tz } : {});
  } catch (err) {
    throw new ScheduleError(`invalid schedule "${text}": ${(err as Error).message}`);
  }
  return {
    next(after) {
      const it = cronParser().CronExpressionParser.parse(cron, { currentDate: after, ...(tz ? { tz } : {}) });
      return it.hasNext() ? it.next().toDate() : undefined;
    },
  };
}
