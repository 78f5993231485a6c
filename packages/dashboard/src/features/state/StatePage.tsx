/** State: browse a store's keys by prefix (paged), view a value with its ETag and TTL, edit and delete. */
import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useMetadata, useSelectedSidecar } from '../../api/sidecars.js';
import { useParams } from '../../router.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Empty, ErrorBox, Loading, Section, Time, prettyJson } from '../../ui/ui.js';
import { readTokens } from '../workflows/WorkflowsPage.js';
import type { WriteResult } from './data.js';
import type { StateValue } from './data.js';
import { deleteValue, parseEditedValue, readValue, saveValue, useStateKeys, useStateValue } from './data.js';

function ValueEditor({ sidecar, store, stateKey, onDeleted }: { sidecar: string; store: string; stateKey: string; onDeleted: () => void }) {
  const client = useQueryClient();
  const value = useStateValue(sidecar, store, stateKey);
  const [text, setText] = useState('');
  const [result, setResult] = useState<WriteResult | undefined>();
  const [busy, setBusy] = useState(false);
  // On a conflict, what the store holds now (undefined: deleted meanwhile), shown beside the edit.
  const [theirs, setTheirs] = useState<{ value: StateValue | undefined } | undefined>();
  useEffect(() => {
    if (value.data) setText(prettyJson(value.data.value));
  }, [value.data]);
  if (value.isPending) return <Loading what="the value" />;
  if (value.error) return <ErrorBox error={value.error} what="the value" />;
  if (!value.data) return <Empty>Key {stateKey} does not exist (any more).</Empty>;
  const { etag, ttlExpireTime } = value.data;
  const reload = async () => {
    setResult(undefined);
    setTheirs(undefined);
    await client.invalidateQueries({ queryKey: ['sidecar', sidecar, 'state-value', store, stateKey] });
  };
  const save = async () => {
    const parsed = parseEditedValue(text);
    if (!parsed.ok) return setResult({ ok: false, conflict: false, message: parsed.message });
    setBusy(true);
    const r = await saveValue(sidecar, store, stateKey, parsed.value, etag);
    setTheirs(!r.ok && r.conflict ? { value: await readValue(sidecar, store, stateKey).catch(() => undefined) } : undefined);
    setBusy(false);
    setResult(r);
    if (r.ok) {
      await client.invalidateQueries({ queryKey: ['sidecar', sidecar, 'state-value', store, stateKey] });
      await client.invalidateQueries({ queryKey: ['sidecar', sidecar, 'state', store] });
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete ${stateKey}?`)) return;
    setBusy(true);
    const r = await deleteValue(sidecar, store, stateKey, etag);
    setTheirs(!r.ok && r.conflict ? { value: await readValue(sidecar, store, stateKey).catch(() => undefined) } : undefined);
    setBusy(false);
    setResult(r);
    if (r.ok) {
      await client.invalidateQueries({ queryKey: ['sidecar', sidecar, 'state', store] });
      onDeleted();
    }
  };
  return (
    <div className="editor">
      <dl className="facts">
        <dt>Key</dt>
        <dd className="mono">{stateKey}</dd>
        <dt>ETag</dt>
        <dd className="mono" data-testid="etag">
          {etag}
        </dd>
        <dt>TTL</dt>
        <dd>{ttlExpireTime ? <>expires <Time iso={ttlExpireTime} /></> : 'none'}</dd>
      </dl>
      <label className="field grow">
        <span>Value (JSON)</span>
        <textarea aria-label="Value" value={text} onChange={(e) => setText(e.target.value)} rows={12} spellCheck={false} />
      </label>
      <div className="row">
        <button onClick={() => void save()} disabled={busy}>
          Save (if ETag {etag.slice(0, 8)}… still current)
        </button>
        <button onClick={() => void remove()} disabled={busy}>
          Delete
        </button>
        <button onClick={() => void reload()} disabled={busy}>
          Reload
        </button>
      </div>
      {result?.ok ? (
        <p className="notice ok" role="status">
          Saved.
        </p>
      ) : null}
      {result && !result.ok ? (
        <div className="notice bad" role="alert" data-testid={result.conflict ? 'conflict' : 'write-error'}>
          {result.conflict ? (
            <>
              <strong>Conflict:</strong> the value changed since you loaded it (ETag {etag}); nothing was overwritten. Reload to see the current value.
              <br />
            </>
          ) : null}
          <span className="small">{result.message}</span>
          {theirs ? (
            <div data-testid="current-value">
              <h3>Now in the store</h3>
              {theirs.value ? (
                <>
                  <pre className="json">{prettyJson(theirs.value.value)}</pre>
                  <span className="small mono">ETag {theirs.value.etag}</span>
                </>
              ) : (
                <p>The key was deleted.</p>
              )}
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

export function StatePage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const [params, setParams] = useParams();
  const metadata = useMetadata(sidecar?.id);
  const stores = (metadata.data?.components ?? []).filter((c) => c.type.startsWith('state.'));
  const store = params.get('store') ?? stores[0]?.name ?? '';
  const prefix = params.get('prefix') ?? '';
  const selectedKey = params.get('key') ?? '';
  const pages = readTokens(params.get('pages'));
  const id = sidecar?.id ?? '';
  const keysPage = useStateKeys(id, store, prefix, pages.at(-1) ?? '');
  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found.</Empty>;
  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={select} />
        <label className="field">
          <span>Store</span>
          <select value={store} onChange={(e) => setParams({ store: e.target.value, key: undefined, pages: undefined })} aria-label="State store">
            {stores.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name} ({s.type})
              </option>
            ))}
          </select>
        </label>
        <label className="field grow">
          <span>Key prefix</span>
          <input type="search" value={prefix} onChange={(e) => setParams({ prefix: e.target.value, pages: undefined })} placeholder="all keys" aria-label="Key prefix" />
        </label>
      </div>
      {metadata.data && stores.length === 0 ? <Empty>This app has no state store.</Empty> : null}
      <div className="split">
        <Section title="Keys">
          {keysPage.isPending && store ? <Loading what="keys" /> : null}
          {keysPage.error ? <ErrorBox error={keysPage.error} what="keys" /> : null}
          {keysPage.data && keysPage.data.keys.length === 0 ? <Empty>No keys{prefix ? ` start with "${prefix}"` : ''}.</Empty> : null}
          {keysPage.data && keysPage.data.keys.length > 0 ? (
            <table className="keys">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Value</th>
                  <th>Size</th>
                  <th>TTL</th>
                </tr>
              </thead>
              <tbody>
                {keysPage.data.keys.map((k) => (
                  <tr key={k.key} className={k.key === selectedKey ? 'selected' : undefined}>
                    <td className="mono">
                      <button className="link" onClick={() => setParams({ key: k.key }, true)}>
                        {k.key}
                      </button>
                    </td>
                    <td className="mono payload">
                      {k.value}
                      {k.truncated ? '…' : ''}
                    </td>
                    <td>{k.size} B</td>
                    <td>{k.ttlExpireTime ? <Time iso={k.ttlExpireTime} /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <div className="pager">
            <button disabled={pages.length === 0} onClick={() => setParams({ pages: pages.length > 1 ? JSON.stringify(pages.slice(0, -1)) : undefined }, true)}>
              ← Previous
            </button>
            <span>Page {pages.length + 1}</span>
            <button disabled={!keysPage.data?.next} onClick={() => setParams({ pages: JSON.stringify([...pages, keysPage.data?.next ?? '']) }, true)}>
              Next →
            </button>
          </div>
        </Section>
        <Section title={selectedKey ? `Value of ${selectedKey}` : 'Value'}>
          {selectedKey ? (
            <ValueEditor key={`${id}/${store}/${selectedKey}`} sidecar={id} store={store} stateKey={selectedKey} onDeleted={() => setParams({ key: undefined })} />
          ) : (
            <Empty>Pick a key to see its value, ETag and TTL.</Empty>
          )}
        </Section>
      </div>
    </>
  );
}
