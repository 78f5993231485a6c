import { describe, expect, it } from 'vitest';
import { InvalidJobError, expired, firstRun, nextRun, parseInstant } from './job.js';
import type { JobRecord, JobSpec } from './job.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const record = (spec: Partial<JobSpec>, extra: Partial<JobRecord> = {}): JobRecord => ({
  spec: { name: 'j', ...spec },
  createdAt: T0,
  nextRunAt: T0,
  count: 0,
  attempt: 0,
  ...extra,
});

describe('job scheduling rules', () => {
  it('reads dueTime as a duration from now or as an RFC 3339 instant', () => {
    expect(parseInstant('90s', T0, 'dueTime')).toBe(T0 + 90_000);
    expect(parseInstant('PT1M', T0, 'dueTime')).toBe(T0 + 60_000);
    expect(parseInstant('2026-03-01T13:00:00Z', T0, 'dueTime')).toBe(T0 + 3_600_000);
    expect(() => parseInstant('soon', T0, 'dueTime')).toThrow(InvalidJobError);
  });

  it('fires first at dueTime when given, else at the schedule', () => {
    expect(firstRun({ name: 'j', schedule: '@every 1h', dueTime: '5s' }, T0)).toBe(T0 + 5000);
    expect(firstRun({ name: 'j', schedule: '@every 10s' }, T0)).toBe(T0 + 10_000);
    expect(() => firstRun({ name: 'j', schedule: 'bad cron' }, T0)).toThrow(InvalidJobError);
  });

  it('ends a one-shot job after its trigger and a recurring one after `repeats` triggers', () => {
    expect(nextRun(record({ dueTime: '0s' }, { count: 1 }), T0)).toBeUndefined();
    expect(nextRun(record({ schedule: '@every 1s', repeats: 3 }, { count: 2 }), T0)).toBe(T0 + 1000);
    expect(nextRun(record({ schedule: '@every 1s', repeats: 3 }, { count: 3 }), T0)).toBeUndefined();
  });

  it('continues from now rather than replaying triggers missed while down', () => {
    const later = T0 + 3_600_000;
    expect(nextRun(record({ schedule: '@every 1m' }, { count: 1 }), later)).toBe(later + 60_000);
  });

  it('stops scheduling past the ttl, counted from creation', () => {
    expect(nextRun(record({ schedule: '@every 1m', ttl: '90s' }, { count: 1 }), T0 + 60_000)).toBeUndefined();
    expect(expired(record({ ttl: '90s' }), T0 + 91_000)).toBe(true);
    expect(expired(record({ ttl: '90s' }), T0 + 89_000)).toBe(false);
  });
});
