import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from './duration.js';

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
});
