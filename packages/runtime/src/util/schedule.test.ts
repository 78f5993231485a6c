import { describe, expect, it } from 'vitest';
import { ScheduleError, parseSchedule } from './schedule.js';

const at = (iso: string) => new Date(iso);

describe('parseSchedule', () => {
  it('reads six fields with seconds first', () => {
    expect(parseSchedule('*/15 * * * * *').next(at('2026-01-01T00:00:01Z'))?.toISOString()).toBe('2026-01-01T00:00:15.000Z');
  });

  it('treats @every as a fixed interval after the given instant', () => {
    expect(parseSchedule('@every 1m30s').next(at('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-01-01T00:01:30.000Z');
  });

  it('expands @daily and @hourly descriptors', () => {
    expect(parseSchedule('@daily').next(at('2026-01-01T10:00:00Z'))?.getTime()).toBeGreaterThan(at('2026-01-01T10:00:00Z').getTime());
    expect(parseSchedule('CRON_TZ=UTC @hourly').next(at('2026-01-01T10:20:00Z'))?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('evaluates the expression in the CRON_TZ zone', () => {
    // 09:00 in New York on 2 January 2026 (EST, UTC-5) is 14:00 UTC.
    expect(parseSchedule('CRON_TZ=America/New_York 0 0 9 * * *').next(at('2026-01-02T00:00:00Z'))?.toISOString()).toBe('2026-01-02T14:00:00.000Z');
  });

  it('rejects empty, unknown descriptors and malformed expressions with ScheduleError', () => {
    for (const bad of ['', '@sometimes', '@every soon', '61 * * * * *']) expect(() => parseSchedule(bad)).toThrow(ScheduleError);
  });
});
