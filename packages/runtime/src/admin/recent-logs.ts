/**
 * The sidecar's recent log lines, for the dashboard: the logger hands each JSON line to
 * {@link RecentLogs.addLine} (`LoggerOptions.onLine`) and the last lines are kept, parsed.
 */
import { Ring } from './ring.js';
import type { AdminLogEntry } from './types.js';

const KNOWN = new Set(['time', 'level', 'msg', 'scope', 'app_id', 'type', 'ver', 'instance']);
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];

/** Recent log lines of one process. */
export class RecentLogs {
  private readonly ring: Ring<AdminLogEntry>;
  private seq = 0;

  /** @param capacity lines kept. @default 2000 */
  constructor(capacity = 2000) {
    this.ring = new Ring(capacity);
  }

  /** Adds one JSON log line (as pino writes it); other text is kept as an info line. */
  addLine(line: string): void {
    if (line.trim() === '') return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entry = { msg: line, level: 'info' };
    }
    const fields = Object.fromEntries(Object.entries(entry).filter(([k]) => !KNOWN.has(k)));
    this.ring.push({
      seq: ++this.seq,
      time: typeof entry['time'] === 'string' ? entry['time'] : new Date().toISOString(),
      level: String(entry['level'] ?? 'info'),
      scope: String(entry['scope'] ?? 'weft'),
      msg: String(entry['msg'] ?? ''),
      ...(Object.keys(fields).length > 0 ? { fields } : {}),
    });
  }

  /**
   * Lines newest first. `level` keeps that level and above; `text` matches message, scope and
   * fields, case-insensitively.
   */
  recent(filter: { level?: string; text?: string; afterSeq?: number; limit?: number } = {}): AdminLogEntry[] {
    const min = filter.level ? LEVELS.indexOf(filter.level.toLowerCase()) : -1;
    const text = filter.text?.toLowerCase();
    return this.ring
      .newest()
      .filter((e) => e.seq > (filter.afterSeq ?? 0))
      .filter((e) => min < 0 || LEVELS.indexOf(e.level) >= min)
      .filter((e) => !text || `${e.msg} ${e.scope} ${e.fields ? JSON.stringify(e.fields) : ''}`.toLowerCase().includes(text))
      .slice(0, filter.limit ?? 500);
  }
}
