/** The soak's Markdown report (`RESULTS.md`), with the three targets judged from the figures. */
import type { SoakResult } from './types.js';

const pct = (n: number): string => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)} %`;

/**
 * How much the per-minute p99 rises over the run, relative to its mean: the least-squares slope
 * times the run's length. A single noisy minute moves this little; a steady climb shows plainly.
 */
export function p99Trend(p99s: readonly number[]): number {
  const n = p99s.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = p99s.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  p99s.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return meanY === 0 ? 0 : ((num / den) * (n - 1)) / meanY;
}

/** Renders the report. */
export function renderReport(r: SoakResult): string {
  const growth = { a: r.rssMB.end.a / r.rssMB.start.a - 1, b: r.rssMB.end.b / r.rssMB.start.b - 1 };
  const trend = p99Trend(r.minutes.map((m) => m.p99Ms));
  const failures = r.totals.errors + r.totals.skipped + r.totals.lost;
  const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const lines = [
    '# Soak',
    '',
    `${r.settings.minutes} min at ${r.settings.ratePerSec} requests/s through two \`weft sidecar\` processes (${r.settings.backend} backend), after a ${r.settings.warmupSeconds} s warm-up that is not counted. Requests, in turn: invoke (A → B → app), state save, state get, publish (delivered by B to the app). Open loop: a request due while ${r.settings.maxInFlight} are outstanding is skipped and counted. Run ${r.when} on ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}; the machine was ${Math.round(r.machine.busyBeforeRun * 100)} % busy just before. Reproduce: \`npx tsx bench/soak/run.ts --minutes ${r.settings.minutes} --rate ${r.settings.ratePerSec}\`.`,
    '',
    '| target | result | verdict |',
    '|---|---|---|',
    `| zero errors | ${r.totals.requests} ok, ${r.totals.errors} errors, ${r.totals.skipped} skipped; ${r.totals.publishedOk} published, ${r.totals.deliveredUnique} delivered (${r.totals.lost} lost, ${r.totals.delivered - r.totals.deliveredUnique} redelivered) | ${verdict(failures === 0)} |`,
    `| RSS growth < 10 % | sidecar A ${r.rssMB.start.a} → ${r.rssMB.end.a} MB (${pct(growth.a)}), sidecar B ${r.rssMB.start.b} → ${r.rssMB.end.b} MB (${pct(growth.b)}); idle before load ${r.rssMB.idle.a} / ${r.rssMB.idle.b} MB | ${verdict(growth.a < 0.1 && growth.b < 0.1)} |`,
    `| flat p99 | per-minute p99 ${Math.min(...r.minutes.map((m) => m.p99Ms))}–${Math.max(...r.minutes.map((m) => m.p99Ms))} ms; trend over the run ${pct(trend)} (least-squares, relative to the mean) | ${verdict(Math.abs(trend) < 0.25)} |`,
    '',
    '"Flat" is judged as a fitted trend within ±25 % of the mean p99 over the run. RSS is sampled every 5 s; a minute\'s figure is the median of its samples (single readings swing with garbage collection), and growth compares the first and last measured minutes.',
    '',
    '| minute | ok | errors | skipped | p50 ms | p99 ms | max ms | invoke p99 | save p99 | get p99 | publish p99 | RSS A MB (peak) | RSS B MB (peak) | heap A / B MB | CPU A | CPU B | machine busy |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.minutes.map(
      (m) =>
        `| ${m.minute} | ${m.requests} | ${m.errors} | ${m.skipped} | ${m.p50Ms} | ${m.p99Ms} | ${m.maxMs} | ${m.perOp.invoke.p99Ms} | ${m.perOp.stateSave.p99Ms} | ${m.perOp.stateGet.p99Ms} | ${m.perOp.publish.p99Ms} | ${m.rssMB.a} (${m.peakRssMB.a}) | ${m.rssMB.b} (${m.peakRssMB.b}) | ${m.heapUsedMB.a} / ${m.heapUsedMB.b} | ${m.cpuShare.a} | ${m.cpuShare.b} | ${Math.round(m.cpuShare.machine * 100)} % |`,
    ),
    '',
  ];
  const errors = r.minutes.filter((m) => m.firstError);
  if (errors.length > 0) lines.push('First error per minute:', '', ...errors.map((m) => `- minute ${m.minute}: ${m.firstError}`), '');
  return lines.join('\n');
}
