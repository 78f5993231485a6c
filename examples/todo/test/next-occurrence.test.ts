import { describe, expect, it } from 'vitest';
import { nextOccurrence } from '../src/recurring/app.js';

describe('nextOccurrence', () => {
  const at = (iso: string) => new Date(iso);
  it('adds days and weeks', () => {
    expect(nextOccurrence(at('2030-01-30T09:00:00Z'), { frequency: 'daily', interval: 3 }).toISOString()).toBe('2030-02-02T09:00:00.000Z');
    expect(nextOccurrence(at('2030-12-28T09:00:00Z'), { frequency: 'weekly', interval: 1 }).toISOString()).toBe('2031-01-04T09:00:00.000Z');
  });
  it('keeps the day of the month, clamped to the last day', () => {
    expect(nextOccurrence(at('2030-01-31T00:00:00Z'), { frequency: 'monthly', interval: 1 }).toISOString()).toBe('2030-02-28T00:00:00.000Z');
    expect(nextOccurrence(at('2032-01-31T00:00:00Z'), { frequency: 'monthly', interval: 1 }).toISOString()).toBe('2032-02-29T00:00:00.000Z');
    expect(nextOccurrence(at('2030-03-15T10:00:00Z'), { frequency: 'monthly', interval: 12 }).toISOString()).toBe('2031-03-15T10:00:00.000Z');
    expect(nextOccurrence(at('2030-11-30T00:00:00Z'), { frequency: 'monthly', interval: 3 }).toISOString()).toBe('2031-02-28T00:00:00.000Z');
  });
});
