/**
 * Facts about the machine a run happened on, and a wait for it to be quiet: on a shared 2-core
 * machine other work (builds, test suites) moves every figure, so a run records how busy it was.
 */
import fs from 'node:fs';

/** CPU time (user + system) of a process in ms, from `/proc/<pid>/stat` (ticks are 1/100 s). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Busy and total CPU ticks of all cores, from the first line of `/proc/stat`. */
export function cpuTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  // Fields 4 and 5 are idle and iowait.
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two {@link cpuTicks} readings (0–1). */
export function busyBetween(before: { busy: number; total: number }, after: { busy: number; total: number }): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/** Share of all cores busy over `ms` (0–1). */
export async function busyShare(ms: number): Promise<number> {
  const before = cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  return busyBetween(before, cpuTicks());
}

/**
 * Waits until the cores are at most `maxBusy` busy over two 3 s samples in a row, or `maxWaitMs`
 * passed. Resolves with the last sample.
 */
export async function waitForQuiet(maxBusy: number, maxWaitMs: number, log: (message: string) => void): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let quietSamples = 0;
  for (;;) {
    const busy = await busyShare(3000);
    quietSamples = busy <= maxBusy ? quietSamples + 1 : 0;
    if (quietSamples >= 2) return busy;
    if (Date.now() >= deadline) {
      if (maxWaitMs > 0) log(`machine still ${Math.round(busy * 100)}% busy after waiting; running anyway`);
      return busy;
    }
    if (quietSamples === 0) log(`machine ${Math.round(busy * 100)}% busy with other work; waiting for ≤ ${Math.round(maxBusy * 100)}%`);
  }
}
