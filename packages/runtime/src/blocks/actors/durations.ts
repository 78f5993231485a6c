/**
 * Reminder and timer times as Dapr parses them (dapr/kit `time.ParseDuration` and `time.ParseTime`):
 * ISO-8601 durations with optional repetitions (`R5/PT1S`, `P1Y2M3DT4H`), Go durations (`1m30s`),
 * and for due times and TTLs also RFC 3339 instants.
 */
import { parseDurationMs } from '../../util/duration.js';

/** A parsed period: calendar parts, a fixed part and the repetitions (-1 = unlimited). */
export interface ActorPeriod {
  years: number;
  months: number;
  days: number;
  ms: number;
  /** -1 when unlimited. */
  repeats: number;
}

const GO_DURATION = /^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/;

/** dapr/kit `ParseISO8601Duration`; throws on anything else. */
export function parseIso8601Duration(from: string): ActorPeriod {
  const fail = () => new Error(`unsupported ISO8601 duration format: ${from}`);
  const out: ActorPeriod = { years: 0, months: 0, days: 0, ms: 0, repeats: -1 };
  const l = from.length;
  if (l < 2) throw fail();
  let i = 0;
  if (from[0] === 'R') {
    do i++;
    while (i < l && from[i] !== '/');
    if (i - 1 < 1) throw fail();
    const reps = from.slice(1, i);
    if (!/^[+-]?\d+$/.test(reps)) throw fail();
    out.repeats = Number(reps);
    i++;
    if (i >= l) return out;
  }
  if (from[i] !== 'P') throw fail();
  i++;
  let start = i;
  let inTime = false;
  const num = (end: number) => {
    const text = from.slice(start, end);
    if (!/^[+-]?\d+$/.test(text)) throw fail();
    return Number(text);
  };
  for (; i < l; i++) {
    const c = from[i];
    switch (c) {
      case 'T':
        if (start !== i) throw fail();
        inTime = true;
        start = i + 1;
        break;
      case 'Y':
      case 'W':
      case 'D':
        if (inTime || start === i) throw fail();
        if (c === 'Y') out.years = num(i);
        else out.days += num(i) * (c === 'W' ? 7 : 1);
        start = i + 1;
        break;
      case 'H':
      case 'S':
        if (!inTime || start === i) throw fail();
        out.ms += num(i) * (c === 'H' ? 3_600_000 : 1000);
        start = i + 1;
        break;
      case 'M':
        if (start === i) throw fail();
        if (inTime) out.ms += num(i) * 60_000;
        else out.months = num(i);
        start = i + 1;
        break;
      default:
        break;
    }
  }
  return out;
}

/** Go's `time.ParseDuration` in milliseconds, or undefined. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!GO_DURATION.test(text)) return undefined;
  return parseDurationMs(text);
}

/** dapr/kit `ParseDuration`: ISO-8601 (with repetitions) first, then a Go duration. */
export function parseActorPeriod(text: string): ActorPeriod {
  try {
    return parseIso8601Duration(text);
  } catch {
    const ms = parseGoDurationMs(text);
    if (ms !== undefined) return { years: 0, months: 0, days: 0, ms, repeats: -1 };
    throw new Error(`unsupported duration format: ${text}`);
  }
}

/** Adds a period once to an instant (calendar parts first, as Go's `AddDate(...).Add(...)`). */
export function addPeriod(at: number, p: Pick<ActorPeriod, 'years' | 'months' | 'days' | 'ms'>): number {
  if (p.years === 0 && p.months === 0 && p.days === 0) return at + p.ms;
  const d = new Date(at);
  d.setUTCFullYear(d.getUTCFullYear() + p.years, d.getUTCMonth() + p.months, d.getUTCDate() + p.days);
  return d.getTime() + p.ms;
}

/** True when a period makes a reminder repeat (Dapr's `HasRepeats`). */
export function periodRepeats(p: ActorPeriod): boolean {
  return p.repeats !== 0 && (p.years !== 0 || p.months !== 0 || p.days !== 0 || p.ms !== 0);
}

/** dapr/kit `ParseTime`: an ISO-8601 or Go duration from `offset`, or an RFC 3339 instant. */
export function parseActorTime(text: string, offset: number): number {
  let iso: ActorPeriod | undefined;
  try {
    iso = parseIso8601Duration(text);
  } catch {
    iso = undefined;
  }
  if (iso) {
    if (iso.repeats !== -1) throw new Error('repetitions are not allowed');
    return addPeriod(offset, iso);
  }
  const ms = parseGoDurationMs(text);
  if (ms !== undefined) return offset + ms;
  if (/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw new Error(`unsupported time/duration format: ${text}`);
}
