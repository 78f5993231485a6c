/** Components of one app: name, type, version, capabilities; its subscriptions and HTTP endpoints. */
import { useMetadata, useSelectedSidecar } from '../../api/sidecars.js';
import type { DaprMetadata } from '../../shared/api.js';
import { subscriptionRules } from '../../shared/api.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Empty, ErrorBox, Loading, Section } from '../../ui/ui.js';

/** A component as Dapr's Component resource, rebuilt from what the metadata API reports. */
export function componentYaml(c: NonNullable<DaprMetadata['components']>[number]): string {
  return ['apiVersion: dapr.io/v1alpha1', 'kind: Component', 'metadata:', `  name: ${c.name}`, 'spec:', `  type: ${c.type}`, `  version: ${c.version || 'v1'}`].join('\n');
}

export function ComponentsPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const metadata = useMetadata(sidecar?.id);
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found; start an app with weft run.</Empty>;
  const m = metadata.data;
  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={select} />
      </div>
      <Section title="Components">
        {metadata.isPending ? <Loading what="components" /> : null}
        {metadata.error ? <ErrorBox error={metadata.error} what="components" /> : null}
        {m && (m.components ?? []).length === 0 ? <Empty>This app has no components.</Empty> : null}
        {m && (m.components ?? []).length > 0 ? (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Version</th>
                <th>Capabilities</th>
                <th>Resource</th>
              </tr>
            </thead>
            <tbody>
              {(m.components ?? []).map((c) => (
                <tr key={c.name}>
                  <td>
                    <strong>{c.name}</strong>
                  </td>
                  <td className="mono">{c.type}</td>
                  <td>{c.version || '—'}</td>
                  <td>{(c.capabilities ?? []).map((cap) => <span key={cap} className="chip">{cap}</span>)}</td>
                  <td>
                    <details>
                      <summary>YAML</summary>
                      <pre className="json">{componentYaml(c)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Subscriptions">
        {m && (m.subscriptions ?? []).length === 0 ? <Empty>No subscriptions.</Empty> : null}
        {m && (m.subscriptions ?? []).length > 0 ? (
          <table>
            <thead>
              <tr>
                <th>Pub/sub</th>
                <th>Topic</th>
                <th>Routes</th>
                <th>Dead-letter topic</th>
                <th>Kind</th>
              </tr>
            </thead>
            <tbody>
              {(m.subscriptions ?? []).map((s) => (
                <tr key={`${s.pubsubname}/${s.topic}`}>
                  <td>{s.pubsubname}</td>
                  <td className="mono">{s.topic}</td>
                  <td className="mono">{subscriptionRules(s).map((r) => (r.match ? `${r.match} → ${r.path}` : r.path)).join(', ')}</td>
                  <td className="mono">{s.deadLetterTopic || '—'}</td>
                  <td>{(s.type ?? '').toLowerCase() || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      {m && (m.httpEndpoints ?? []).length > 0 ? (
        <Section title="HTTP endpoints">
          <ul>
            {(m.httpEndpoints ?? []).map((e) => (
              <li key={e.name}>{e.name}</li>
            ))}
          </ul>
        </Section>
      ) : null}
    </>
  );
}
