/**
 * Go-style durations ("1h2m3.5s", "500ms", "-1") as Dapr's YAML and APIs use them, plus ISO-8601
 * ("PT1M30S") which the jobs and reminders APIs also accept.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g;
const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Parses a Go or ISO-8601 duration to milliseconds; returns undefined when the text is neither. */
export function parseDurationMs(text: string): number | undefined {
  const value = text.trim();
  if (value === '0') return 0;
  if (GO_DURATION.test(value)) {
    const sign = value.startsWith('-') ? -1 : 1;
    let total = 0;
    for (const match of value.matchAll(GO_PART)) {
      total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
    }
    return sign * total;
  }
  const iso = ISO_DURATION.exec(value);
  if (iso && value.length > 1 && value.toUpperCase() !== 'PT') {
    const [, d, h, m, s] = iso;
    return (
      Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000
    );
  }
  return undefined;
}

/** Formats milliseconds the way Go prints a duration ("1m30s", "500ms"). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${seconds}s`;
}
