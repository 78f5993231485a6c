import { describe, expect, it } from 'vitest';
import { DurationError, formatDurationMs, parseDuration, parseDurationMs } from './duration.js';

describe('parseDurationMs', () => {
  it('reads Go durations with several units', () => {
    expect(parseDurationMs('1h2m3.5s')).toBe(3_723_500);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('0')).toBe(0);
  });

  it('reads ISO-8601 durations', () => {
    expect(parseDurationMs('PT1M30S')).toBe(90_000);
    expect(parseDurationMs('P1D')).toBe(86_400_000);
  });

  it('returns undefined for text that is no duration', () => {
    expect(parseDurationMs('soon')).toBeUndefined();
    expect(parseDurationMs('5')).toBeUndefined();
    expect(parseDurationMs('PT')).toBeUndefined();
  });

  it('formats milliseconds the way Go prints durations', () => {
    expect(formatDurationMs(90_000)).toBe('1m30s');
    expect(formatDurationMs(250)).toBe('250ms');
  });

  it('reads every Go duration and days with one grammar', () => {
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('300ms')).toBe(300);
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs('2h45m10s')).toBe(9_910_000);
    expect(parseDurationMs('7d')).toBe(7 * 86_400_000);
    expect(parseDurationMs('1d12h')).toBe(36 * 3_600_000);
    expect(parseDurationMs('10us')).toBe(0.01);
  });
});

describe('parseDuration', () => {
  it('names the setting when it refuses a value', () => {
    expect(() => parseDuration('WEFT_WORKFLOW_STUCK_AFTER', 'a week')).toThrow(DurationError);
    expect(() => parseDuration('WEFT_WORKFLOW_STUCK_AFTER', 'a week')).toThrow('WEFT_WORKFLOW_STUCK_AFTER: expected a duration such as 1h30m, 300ms, 1.5h or 7d, got "a week"');
    expect(() => parseDuration('spec.initTimeout', '5')).toThrow(/spec\.initTimeout/);
    expect(() => parseDuration('X', '0s', { positive: true })).toThrow(/X: expected a positive duration/);
    expect(() => parseDuration('X', '-1s')).toThrow(/X: expected a duration of at least 0s/);
  });

  it('reads a bare number in the unit the setting documents', () => {
    expect(parseDuration('X', '250', { bareUnitMs: 1 })).toBe(250);
    expect(parseDuration('X', '3', { bareUnitMs: 1000 })).toBe(3000);
    expect(parseDuration('X', '1h30m', { bareUnitMs: 1000 })).toBe(5_400_000);
  });
});
