/**
 * The workflow health overview: per workflow name and status, how many instances finished (or, when
 * unfinished, changed) in the window and their p50/p90/p99 durations, from the sidecar's admin API.
 * The window is in the URL (`?window=1h`); clicking a row filters the instance list to it.
 */
import { Badge, Empty, ErrorBox, Loading, Section, formatDuration } from '../../ui/ui.js';
import { HEALTH_WINDOWS, useWorkflowHealth } from './data.js';

/** The window key in the URL, falling back to an hour. */
export function healthWindow(raw: string | null): keyof typeof HEALTH_WINDOWS {
  return raw !== null && raw in HEALTH_WINDOWS ? (raw as keyof typeof HEALTH_WINDOWS) : '1h';
}

export function HealthOverview({
  sidecarId,
  ready,
  window,
  onWindow,
  onPick,
}: {
  sidecarId: string;
  /** False until the instance list has loaded: the overview never delays the list. */
  ready: boolean;
  window: keyof typeof HEALTH_WINDOWS;
  onWindow: (w: keyof typeof HEALTH_WINDOWS) => void;
  onPick: (name: string, status: string) => void;
}) {
  const health = useWorkflowHealth(ready ? sidecarId : '', HEALTH_WINDOWS[window]);
  const rows = health.data?.rows ?? [];
  return (
    <Section
      title="Health"
      actions={
        <label className="field inline">
          <span>Window</span>
          <select aria-label="Health window" value={window} onChange={(e) => onWindow(healthWindow(e.target.value))}>
            {Object.keys(HEALTH_WINDOWS).map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
      }
    >
      {health.isPending ? <Loading what="the health overview" /> : null}
      {health.error ? <ErrorBox error={health.error} what="the health overview" /> : null}
      {health.data && rows.length === 0 ? <Empty>No workflow instance finished or changed in the last {window}.</Empty> : null}
      {rows.length > 0 ? (
        <table className="health" aria-label="Durations per workflow and status">
          <thead>
            <tr>
              <th>Workflow</th>
              <th>Status</th>
              <th className="num">Instances</th>
              <th className="num">p50</th>
              <th className="num">p90</th>
              <th className="num">p99</th>
              <th className="num">Slowest</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.name}/${r.status}`} data-testid={`health-${r.name}-${r.status}`}>
                <td>
                  <button className="link" title="Show these instances" onClick={() => onPick(r.name, r.status)}>
                    {r.name}
                  </button>
                </td>
                <td>
                  <Badge value={r.status} />
                </td>
                <td className="num">{r.count}</td>
                <td className="num">{formatDuration(r.p50Ms)}</td>
                <td className="num">{formatDuration(r.p90Ms)}</td>
                <td className="num">{formatDuration(r.p99Ms)}</td>
                <td className="num">{formatDuration(r.maxMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p className="muted small">Durations: creation to finish; for unfinished instances, their age so far.</p>
    </Section>
  );
}
