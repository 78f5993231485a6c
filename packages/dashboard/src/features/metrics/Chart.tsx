/** A time-series chart on uPlot (made for time series: thousands of points stay fast). */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** A line chart of `series` over unix-second timestamps `t`. */
export function Chart({ title, unit, t, series }: { title: string; unit: string; t: number[]; series: ChartSeries[] }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = typeof document === 'undefined' ? 'light' : (document.documentElement.dataset['theme'] ?? 'light');
  const shape = series.map((s) => `${s.label}:${s.color}`).join('|');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border'), width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 200,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, min + 1) * 1.1] } },
      axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map((v) => `${+v.toFixed(2)} ${unit}`) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: false } }))],
    };
    const chart = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    plot.current = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(300, el.clientWidth), height: 200 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series set, unit or theme changes; data flows in through setData below.
  }, [shape, unit, theme]);

  useEffect(() => {
    plot.current?.setData([t, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [t, series]);

  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div ref={host} />
    </figure>
  );
}
