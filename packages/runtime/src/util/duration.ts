/**
 * The one duration grammar of Weft: Go durations ("1h30m", "300ms", "1.5h", "2h45m10s") as Dapr's YAML
 * and APIs use them, extended with days ("7d", "1d12h") for retention-style settings, plus ISO-8601
 * ("PT1M30S") which the jobs and reminders APIs also accept. Every setting, metadata field, resource
 * field and flag that takes a duration parses it here ({@link parseDuration} names the setting when it
 * refuses one), so no two places accept different spellings.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const GO_DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h|d))+$/;
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/g;
const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Parses a Go (with days) or ISO-8601 duration to milliseconds; returns undefined when the text is neither. */
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

/** Raised by {@link parseDuration}; the message names the setting and shows the accepted forms. */
export class DurationError extends Error {
  constructor(
    /** The setting's name (`WEFT_WORKFLOW_RETENTION`, `spec.initTimeout`, a metadata field). */
    readonly setting: string,
    /** The refused text. */
    readonly value: string,
    expected: string,
  ) {
    super(`${setting}: expected ${expected}, got "${value}"`);
    this.name = 'DurationError';
  }
}

/** Options of {@link parseDuration}. */
export interface ParseDurationOptions {
  /**
   * What a bare number (no unit) means, in milliseconds per unit: 1 for fields documented in
   * milliseconds, 1000 for seconds. Without it a bare number other than `0` is refused.
   */
  bareUnitMs?: number;
  /** Smallest accepted value in milliseconds. @default 0 (negative durations are refused) */
  minMs?: number;
  /** Refuse zero (for intervals and timeouts where zero means nothing sensible). @default false */
  positive?: boolean;
}

/**
 * Parses a duration setting to milliseconds, or throws a {@link DurationError} naming `setting`.
 * Accepts everything {@link parseDurationMs} does, and a bare number when `bareUnitMs` says its unit.
 */
export function parseDuration(setting: string, raw: string, options: ParseDurationOptions = {}): number {
  const text = raw.trim();
  const bare = options.bareUnitMs !== undefined && /^\d+(?:\.\d+)?$/.test(text) ? Number(text) * options.bareUnitMs : undefined;
  const ms = bare ?? parseDurationMs(text);
  const example = 'a duration such as 1h30m, 300ms, 1.5h or 7d';
  if (ms === undefined) throw new DurationError(setting, raw, options.bareUnitMs === undefined ? example : `${example} (or a number of ${unitName(options.bareUnitMs)})`);
  if (options.positive && ms <= 0) throw new DurationError(setting, raw, `a positive duration (${example.slice(2)})`);
  if (ms < (options.minMs ?? 0)) throw new DurationError(setting, raw, `a duration of at least ${formatDurationMs(options.minMs ?? 0)}`);
  return ms;
}

function unitName(unitMs: number): string {
  return unitMs === 1 ? 'milliseconds' : unitMs === 1000 ? 'seconds' : `${unitMs} ms units`;
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
