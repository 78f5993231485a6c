/** Apps: every sidecar with its app id, ports, protocol, health, uptime, pids and metadata. */
import { useState } from 'react';
import type { SidecarSummary } from '../../shared/api.js';
import { useMetadata, useSidecars } from '../../api/sidecars.js';
import { Badge, Empty, ErrorBox, Json, Link, Loading, Section, Time, formatDuration } from '../../ui/ui.js';
import { href } from '../../router.js';
import { SystemGraph } from './SystemGraph.js';

function Uptime({ since }: { since: string | undefined }) {
  if (!since) return <span className="muted">—</span>;
  return <span title={since}>{formatDuration(Date.now() - Date.parse(since))}</span>;
}

function AppRow({ sidecar, open, toggle }: { sidecar: SidecarSummary; open: boolean; toggle: () => void }) {
  const metadata = useMetadata(sidecar.healthy ? sidecar.id : undefined);
  const conn = metadata.data?.appConnectionProperties;
  return (
    <>
      <tr>
        <td>
          <button className="link" aria-expanded={open} onClick={toggle} title="Show the sidecar metadata">
            {open ? '▾' : '▸'} <strong>{sidecar.appId}</strong>
          </button>
        </td>
        <td>
          <Badge value={sidecar.healthy ? 'healthy' : 'down'} {...(sidecar.healthError ? { title: sidecar.healthError } : {})} />
        </td>
        <td className="mono">{sidecar.httpUrl}</td>
        <td className="mono">{sidecar.grpcPort ?? '—'}</td>
        <td className="mono">{conn?.port ?? sidecar.appPort ?? '—'}</td>
        <td>{conn?.protocol ?? '—'}</td>
        <td>
          <Uptime since={sidecar.startedAt} />
        </td>
        <td className="mono">{sidecar.pid ?? '—'}</td>
        <td className="mono">{sidecar.appPid ?? '—'}</td>
        <td>{metadata.data?.runtimeVersion ?? '—'}</td>
        <td>
          <Link to={href('/components', { app: sidecar.id })}>components</Link> · <Link to={href('/workflows', { app: sidecar.id })}>workflows</Link> ·{' '}
          <Link to={href('/logs', { app: sidecar.id })}>logs</Link>
        </td>
      </tr>
      {open ? (
        <tr className="detail">
          <td colSpan={11}>
            {sidecar.command ? (
              <p>
                Command: <code>{sidecar.command}</code>
              </p>
            ) : null}
            <p>
              Found via {sidecar.source === 'registry' ? 'the local registry' : '--sidecar'}; started <Time iso={sidecar.startedAt} />
            </p>
            {metadata.isPending && sidecar.healthy ? <Loading what="metadata" /> : null}
            {metadata.error ? <ErrorBox error={metadata.error} what="metadata" /> : null}
            {metadata.data ? <Json text={JSON.stringify(metadata.data)} label={`metadata of ${sidecar.appId}`} /> : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function AppsPage() {
  const { data, isPending, error } = useSidecars();
  const [open, setOpen] = useState<string | undefined>();
  if (isPending) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  return (
    <>
    <Section title={`Apps (${data.sidecars.length})`}>
      {data.sidecars.length === 0 ? (
        <Empty>
          No sidecars found. Start an app with <code>weft run</code> (registry <code>{data.discovery.registryDir || 'off'}</code>) or point the dashboard at one
          with <code>weft dashboard --sidecar http://host:3500</code>.
        </Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>App id</th>
              <th>Health</th>
              <th>HTTP API</th>
              <th>gRPC port</th>
              <th>App port</th>
              <th>Protocol</th>
              <th>Uptime</th>
              <th>Sidecar pid</th>
              <th>App pid</th>
              <th>Runtime</th>
              <th>Open</th>
            </tr>
          </thead>
          <tbody>
            {data.sidecars.map((s) => (
              <AppRow key={s.id} sidecar={s} open={open === s.id} toggle={() => setOpen(open === s.id ? undefined : s.id)} />
            ))}
          </tbody>
        </table>
      )}
    </Section>
    {data.sidecars.length > 0 ? (
      <Section title="System graph">
        <SystemGraph />
      </Section>
    ) : null}
    </>
  );
}
