/**
 * Components of one app (name, type, version, capabilities) and what else is in effect for it: the
 * Configuration, the resiliency policies, the subscriptions (declarative and programmatic), the
 * access-control rules and the HTTP endpoints, each resource with its YAML.
 */
import { useMetadata, useSelectedSidecar } from '../../api/sidecars.js';
import type { DaprMetadata } from '../../shared/api.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Badge, Empty, ErrorBox, Loading, Section } from '../../ui/ui.js';
import { routesText, useResources } from './data.js';

/** A resource's YAML, folded. */
function Yaml({ text, label }: { text: string; label: string }) {
  return (
    <details>
      <summary>YAML</summary>
      <pre className="json" aria-label={label}>
        {text}
      </pre>
    </details>
  );
}

/** A component as Dapr's Component resource, rebuilt from what the metadata API reports. */
export function componentYaml(c: NonNullable<DaprMetadata['components']>[number]): string {
  return ['apiVersion: dapr.io/v1alpha1', 'kind: Component', 'metadata:', `  name: ${c.name}`, 'spec:', `  type: ${c.type}`, `  version: ${c.version || 'v1'}`].join('\n');
}

export function ComponentsPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const metadata = useMetadata(sidecar?.id);
  const resources = useResources(sidecar?.id);
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found; start an app with weft run.</Empty>;
  const m = metadata.data;
  const r = resources.data;
  const loadingResources = resources.isPending ? <Loading what="resources" /> : null;
  const resourcesError = resources.error ? <ErrorBox error={resources.error} what="resources" /> : null;
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
      <Section title="Configuration">
        {loadingResources}
        {resourcesError}
        {r ? (
          <dl className="facts" data-testid="configuration">
            <dt>Name</dt>
            <dd>
              <strong>{r.configuration.name}</strong> {r.configuration.isDefault ? <span className="muted">(defaults: no --config given)</span> : null}
            </dd>
            {r.configuration.file ? (
              <>
                <dt>File</dt>
                <dd className="mono">{r.configuration.file}</dd>
              </>
            ) : null}
            <dt>Resource</dt>
            <dd>
              <Yaml text={r.configuration.yaml} label="Configuration YAML" />
            </dd>
          </dl>
        ) : null}
      </Section>
      <Section title="Resiliency">
        {loadingResources}
        {r && r.resiliency.length === 0 ? <Empty>No Resiliency resource applies to this app: Dapr's built-in retries only.</Empty> : null}
        {r && r.resiliency.length > 0 ? (
          <table data-testid="resiliency">
            <thead>
              <tr>
                <th>Name</th>
                <th>File</th>
                <th>Resource</th>
              </tr>
            </thead>
            <tbody>
              {r.resiliency.map((x) => (
                <tr key={x.name}>
                  <td>
                    <strong>{x.name}</strong>
                  </td>
                  <td className="mono">{x.file ?? '—'}</td>
                  <td>
                    <Yaml text={x.yaml} label={`Resiliency ${x.name} YAML`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Subscriptions">
        {loadingResources}
        {r && r.subscriptions.length === 0 ? <Empty>No subscriptions.</Empty> : null}
        {r && r.subscriptions.length > 0 ? (
          <table data-testid="subscriptions">
            <thead>
              <tr>
                <th>Pub/sub</th>
                <th>Topic</th>
                <th>Routes</th>
                <th>Dead-letter topic</th>
                <th>Kind</th>
                <th>Resource</th>
              </tr>
            </thead>
            <tbody>
              {r.subscriptions.map((s) => (
                <tr key={`${s.pubsubName}/${s.topic}`}>
                  <td>{s.pubsubName}</td>
                  <td className="mono">{s.topic}</td>
                  <td className="mono">{routesText(s.rules)}</td>
                  <td className="mono">{s.deadLetterTopic || '—'}</td>
                  <td>
                    <Badge value={s.type} />
                  </td>
                  <td>
                    <Yaml text={s.yaml} label={`Subscription ${s.topic} YAML`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Access control">
        {loadingResources}
        {r && !r.accessControl ? <Empty>No access-control policy: every app may invoke this one.</Empty> : null}
        {r?.accessControl ? (
          <div data-testid="access-control">
            <p>
              Default action <Badge value={r.accessControl.defaultAction} /> · trust domain <span className="mono">{r.accessControl.trustDomain}</span>
            </p>
            {r.accessControl.policies.length > 0 ? (
              <table>
                <thead>
                  <tr>
                    <th>Caller app id</th>
                    <th>Default action</th>
                    <th>Namespace</th>
                    <th>Trust domain</th>
                    <th>Operations</th>
                  </tr>
                </thead>
                <tbody>
                  {r.accessControl.policies.map((p) => (
                    <tr key={`${p.namespace}/${p.appId}`}>
                      <td className="mono">{p.appId}</td>
                      <td>
                        <Badge value={p.defaultAction} />
                      </td>
                      <td>{p.namespace}</td>
                      <td>{p.trustDomain}</td>
                      <td className="mono">
                        {p.operations.length === 0
                          ? '—'
                          : p.operations.map((o) => (
                              <div key={o.name}>
                                {o.httpVerb.join(', ')} {o.name} → {o.action}
                              </div>
                            ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            <Yaml text={r.accessControl.yaml} label="Access control YAML" />
          </div>
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
