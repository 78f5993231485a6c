/**
 * `bindings.cron`: an input binding that fires on a schedule (6-field cron with seconds, `@every 1s`,
 * `@daily` …, optional `CRON_TZ=` prefix). Each firing delivers an empty body with the headers
 * `timeZone` and `readTimeUTC`, as components-contrib `bindings/cron` does. Firings missed while the
 * sidecar was down are not replayed (the Jobs API is the durable scheduler).
 */
import type { Component, ComponentContext } from '../../component.js';
import { MetadataError, requireString } from '../../metadata.js';
import type { MetadataProperties } from '../../metadata.js';
import { ScheduleError, parseSchedule } from '../../../util/schedule.js';
import type { Schedule } from '../../../util/schedule.js';
import type { BindingHandler, InputBinding } from '../binding.js';

/** Longest single `setTimeout`; longer waits re-arm (Node caps timers at ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The cron input binding. */
export class CronBinding implements InputBinding, Component {
  private schedule: Schedule | undefined;
  private timeZone = 'Local';
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private context: ComponentContext | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const text = requireString(props, 'schedule');
    try {
      this.schedule = parseSchedule(text);
    } catch (err) {
      throw new MetadataError('schedule', err instanceof ScheduleError ? err.message : String(err));
    }
    const tz = /^(?:CRON_TZ|TZ)=(\S+)/.exec(text.trim());
    this.timeZone = tz?.[1] ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.context = context;
    await Promise.resolve();
  }

  read(handler: BindingHandler): Promise<void> {
    const schedule = this.schedule;
    if (!schedule) return Promise.reject(new Error('cron binding is not initialised'));
    const arm = (after: Date) => {
      if (this.closed) return;
      const next = schedule.next(after);
      if (!next) return;
      const wait = next.getTime() - Date.now();
      this.timer = setTimeout(
        () => {
          if (Date.now() < next.getTime()) return arm(after);
          arm(next);
          handler({ data: Buffer.alloc(0), metadata: { timeZone: this.timeZone, readTimeUTC: new Date().toISOString() } }).catch(
            (err: unknown) => this.context?.logger.debug('cron event not handled (reported by the input binding runner)', { error: (err as Error).message }),
          );
        },
        Math.min(Math.max(wait, 0), MAX_TIMER_MS),
      );
    };
    arm(new Date());
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return Promise.resolve();
  }
}
