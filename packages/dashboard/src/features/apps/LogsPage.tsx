/** Recent logs of one app: the sidecar's (admin API) and, for `weft run -f` apps, both log files. */
import { useQuery } from '@tanstack/react-query';
import type { AdminLogEntry } from '@weft/runtime';
import type { AppLogsResponse } from '../../shared/api.js';
import { getJson, keys, sidecarJson } from '../../api/client.js';
import { useSelectedSidecar } from '../../api/sidecars.js';
import { useParams } from '../../router.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Empty, ErrorBox, Loading, Section } from '../../ui/ui.js';

export function LogsPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const [params, setParams] = useParams();
  const source = params.get('source') ?? 'sidecar';
  const level = params.get('level') ?? '';
  const text = params.get('q') ?? '';
  const id = sidecar?.id ?? '';
  const logs = useQuery({
    queryKey: keys.logs(id, source, level, text),
    enabled: Boolean(sidecar),
    meta: { live: true },
    queryFn: async (): Promise<{ lines: { key: string; level: string; text: string }[] }> => {
      if (source === 'sidecar') {
        const q = new URLSearchParams({ limit: '500', ...(level ? { level } : {}), ...(text ? { text } : {}) });
        const body = await sidecarJson<{ entries: AdminLogEntry[] }>(id, `/v1.0-weft/admin/logs?${q.toString()}`);
        return {
          lines: body.entries.map((e) => ({
            key: String(e.seq),
            level: e.level,
            text: `${e.time} ${e.level.toUpperCase().padEnd(5)} [${e.scope}] ${e.msg}${e.fields ? ' ' + JSON.stringify(e.fields) : ''}`,
          })),
        };
      }
      const body = await getJson<AppLogsResponse>(`/api/sidecars/${encodeURIComponent(id)}/app-logs?source=${source}&lines=1000`);
      const needle = text.toLowerCase();
      return {
        lines: body.lines
          .map((l, i) => ({ key: String(i), level: /\b(ERRO|error)\b/.test(l) ? 'error' : /\b(WARN|warn)\b/.test(l) ? 'warn' : 'info', text: l }))
          .filter((l) => !needle || l.text.toLowerCase().includes(needle))
          .reverse(),
      };
    },
  });
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found.</Empty>;
  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={select} />
        <label className="field">
          <span>Source</span>
          <select value={source} onChange={(e) => setParams({ source: e.target.value })}>
            <option value="sidecar">sidecar (recent)</option>
            {sidecar.logs.daprd ? <option value="daprd">sidecar log file</option> : null}
            {sidecar.logs.app ? <option value="app">app log file</option> : null}
          </select>
        </label>
        {source === 'sidecar' ? (
          <label className="field">
            <span>Level</span>
            <select value={level} onChange={(e) => setParams({ level: e.target.value })}>
              <option value="">all</option>
              <option value="info">info and above</option>
              <option value="warn">warn and above</option>
              <option value="error">error</option>
            </select>
          </label>
        ) : null}
        <label className="field grow">
          <span>Text</span>
          <input type="search" value={text} placeholder="filter…" onChange={(e) => setParams({ q: e.target.value })} />
        </label>
      </div>
      <Section title={`Logs of ${sidecar.appId}`}>
        {logs.isPending ? <Loading what="logs" /> : null}
        {logs.error ? <ErrorBox error={logs.error} what="logs" /> : null}
        {logs.data && logs.data.lines.length === 0 ? <Empty>No log lines match.</Empty> : null}
        {logs.data && logs.data.lines.length > 0 ? (
          <pre className="logs" tabIndex={0} aria-label="log lines, newest first">
            {logs.data.lines.map((l) => (
              <div key={l.key} className={`log ${l.level}`}>
                {l.text}
              </div>
            ))}
          </pre>
        ) : null}
      </Section>
    </>
  );
}
