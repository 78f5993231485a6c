import { describe, expect, it } from 'vitest';
import { AppHealthMonitor } from './app-health.js';

/** Runs the monitor over a scripted series of probe results and records its transitions. */
async function transitions(results: boolean[], threshold: number): Promise<boolean[]> {
  const seen: boolean[] = [];
  let i = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const monitor = new AppHealthMonitor(
    async () => {
      const result = results[i++];
      if (i >= results.length) setImmediate(finish);
      return result ?? false;
    },
    { path: '/healthz', intervalMs: 1, timeoutMs: 10, threshold },
    (healthy) => seen.push(healthy),
  );
  monitor.start();
  await done;
  monitor.stop();
  return seen;
}

describe('AppHealthMonitor', () => {
  it('reports healthy only after the first successful probe', async () => {
    expect(await transitions([false, false, false, false, true], 3)).toEqual([true]);
  });

  it('reports unhealthy after threshold consecutive failures and healthy again after one success', async () => {
    expect(await transitions([true, false, false, true, false, false, false, true], 3)).toEqual([true, false, true]);
  });
});
