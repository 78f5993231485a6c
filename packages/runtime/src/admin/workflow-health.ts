/**
 * The workflow health overview: for each workflow name and status, how many instances changed within
 * a window and the p50/p90/p99 of their durations. A finished instance's duration is creation to
 * finish; an unfinished one's is its age so far (so a slow RUNNING population shows up too).
 */
import type { RecentInstance } from '../workflow/backend.js';
import { isTerminal } from '../workflow/types.js';
import type { WorkflowStatus } from '../workflow/types.js';

/** One status × workflow-name cell of the overview. */
export interface WorkflowHealthRow {
  name: string;
  status: WorkflowStatus;
  count: number;
  /** Nearest-rank percentiles of the durations, in milliseconds. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Slowest instance in the window, in milliseconds. */
  maxMs: number;
}

/** `GET /v1.0-weft/admin/workflows/health`. */
export interface WorkflowHealthResponse {
  /** ISO start and end of the window. */
  since: string;
  until: string;
  windowSeconds: number;
  /** Sorted by name, then status. */
  rows: WorkflowHealthRow[];
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted` (non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Groups the instances of the window by (name, status) and computes the percentiles. */
export function healthOverview(instances: readonly RecentInstance[], now: Date, windowSeconds: number): WorkflowHealthResponse {
  const groups = new Map<string, { name: string; status: WorkflowStatus; durations: number[] }>();
  for (const i of instances) {
    const key = `${i.name}\u0000${i.status}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { name: i.name, status: i.status, durations: [] }));
    const end = isTerminal(i.status) ? i.updatedAt : now.getTime();
    group.durations.push(Math.max(0, end - i.createdAt));
  }
  const rows = [...groups.values()]
    .map(({ name, status, durations }) => {
      durations.sort((a, b) => a - b);
      return { name, status, count: durations.length, p50Ms: percentile(durations, 50), p90Ms: percentile(durations, 90), p99Ms: percentile(durations, 99), maxMs: durations.at(-1)! };
    })
    .sort((a, b) => (a.name === b.name ? a.status.localeCompare(b.status) : a.name.localeCompare(b.name)));
  return { since: new Date(now.getTime() - windowSeconds * 1000).toISOString(), until: now.toISOString(), windowSeconds, rows };
}
