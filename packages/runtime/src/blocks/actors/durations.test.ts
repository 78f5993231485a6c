import { describe, expect, it } from 'vitest';
import { addPeriod, parseActorPeriod, parseActorTime, periodRepeats } from './durations.js';

describe('actor reminder durations (dapr/kit time)', () => {
  it('parses Go durations with unlimited repeats', () => {
    expect(parseActorPeriod('1m30s')).toEqual({ years: 0, months: 0, days: 0, ms: 90_000, repeats: -1 });
    expect(parseActorPeriod('0.5s').ms).toBe(500);
  });

  it('parses ISO-8601 durations with calendar parts and repetitions', () => {
    expect(parseActorPeriod('R5/PT1S')).toEqual({ years: 0, months: 0, days: 0, ms: 1000, repeats: 5 });
    expect(parseActorPeriod('P1Y2M3DT4H5M6S')).toEqual({ years: 1, months: 2, days: 3, ms: 4 * 3_600_000 + 5 * 60_000 + 6000, repeats: -1 });
    expect(parseActorPeriod('P2W').days).toBe(14);
  });

  it('rejects fractional ISO numbers, as daprd does', () => {
    expect(() => parseActorPeriod('PT0.5S')).toThrow('unsupported duration format: PT0.5S');
  });

  it('reports whether a period repeats', () => {
    expect(periodRepeats(parseActorPeriod('R0/PT1S'))).toBe(false);
    expect(periodRepeats(parseActorPeriod('1s'))).toBe(true);
    expect(periodRepeats({ years: 0, months: 0, days: 0, ms: 0, repeats: -1 })).toBe(false);
  });

  it('parses due times as durations from an offset or as RFC 3339 instants', () => {
    expect(parseActorTime('10s', 1000)).toBe(11_000);
    expect(parseActorTime('PT1M', 0)).toBe(60_000);
    expect(parseActorTime('2030-01-02T03:04:05Z', 0)).toBe(Date.parse('2030-01-02T03:04:05Z'));
    expect(() => parseActorTime('R2/PT1S', 0)).toThrow('repetitions are not allowed');
    expect(() => parseActorTime('soon', 0)).toThrow('unsupported time/duration format: soon');
  });

  it('adds calendar months in UTC', () => {
    expect(new Date(addPeriod(Date.parse('2030-01-31T00:00:00Z'), { years: 0, months: 1, days: 0, ms: 0 })).toISOString()).toBe('2030-03-03T00:00:00.000Z');
  });
});
