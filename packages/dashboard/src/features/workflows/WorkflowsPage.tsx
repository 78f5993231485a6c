/**
 * Workflow instances of one app: counts per status, filters (status, name, time range, id prefix)
 * held in the URL, paging through the list API's continuation tokens, bulk terminate and purge.
 */
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { WORKFLOW_STATUSES } from '../../shared/api.js';
import { useSelectedSidecar } from '../../api/sidecars.js';
import { instanceHref, useParams } from '../../router.js';
import { AppPicker } from '../../ui/app-picker.js';
import { Badge, Empty, ErrorBox, Link, Loading, Section, Time } from '../../ui/ui.js';
import type { WorkflowFilters } from './data.js';
import { bulk, purgeWhere, useWorkflowCounts, useWorkflowList } from './data.js';
import { HealthOverview, healthWindow } from './HealthOverview.js';

const PAGE_SIZE = 25;

/** The continuation tokens of the pages before the current one (in the URL, so Back works). */
export function readTokens(raw: string | null): string[] {
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function download(name: string, data: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

export function WorkflowsPage() {
  const { sidecar, sidecars, loading, error, select } = useSelectedSidecar();
  const [params, setParams] = useParams();
  const client = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<{ kind: 'ok' | 'bad'; text: string } | undefined>();
  const [busy, setBusy] = useState(false);
  const filters: WorkflowFilters = {
    status: params.get('status') ?? '',
    name: params.get('name') ?? '',
    idPrefix: params.get('idPrefix') ?? '',
    createdFrom: params.get('from') ?? '',
    createdTo: params.get('to') ?? '',
  };
  const tokens = readTokens(params.get('pages'));
  const id = sidecar?.id ?? '';
  const list = useWorkflowList(id, filters, PAGE_SIZE, tokens.at(-1));
  const counts = useWorkflowCounts(id, filters);

  if (loading) return <Loading what="apps" />;
  if (error) return <ErrorBox error={error} what="apps" />;
  if (!sidecar) return <Empty>No sidecars found; start an app with weft run.</Empty>;

  const setFilter = (changes: Record<string, string | undefined>) => {
    setSelected(new Set());
    setParams({ ...changes, pages: undefined });
  };
  const instances = list.data?.instances ?? [];
  const allSelected = instances.length > 0 && instances.every((i) => selected.has(i.instanceID));
  const act = async (what: 'terminate' | 'purge') => {
    const ids = [...selected];
    if (!window.confirm(`${what === 'terminate' ? 'Terminate' : 'Purge'} ${ids.length} instance(s)?`)) return;
    setBusy(true);
    const failures = await bulk(id, ids, { kind: what });
    setBusy(false);
    setSelected(new Set());
    setNotice(
      failures.length === 0
        ? { kind: 'ok', text: `${what === 'terminate' ? 'Terminated' : 'Purged'} ${ids.length} instance(s).` }
        : { kind: 'bad', text: `${failures.length} of ${ids.length} failed: ${failures.map((f) => `${f.instanceId}: ${f.error}`).join('; ')}` },
    );
    await client.invalidateQueries({ queryKey: ['sidecar', id] });
  };
  const purgeMatching = async () => {
    if (!window.confirm('Purge every finished instance matching the filters?')) return;
    setBusy(true);
    try {
      const n = await purgeWhere(id, filters);
      setNotice({ kind: 'ok', text: `Purged ${n} instance(s) matching the filters.` });
    } catch (err) {
      setNotice({ kind: 'bad', text: (err as Error).message });
    } finally {
      setBusy(false);
      await client.invalidateQueries({ queryKey: ['sidecar', id] });
    }
  };

  return (
    <>
      <div className="toolbar">
        <AppPicker sidecars={sidecars} selected={sidecar} onSelect={(a) => (setSelected(new Set()), select(a))} />
        <label className="field">
          <span>Status</span>
          <select value={filters.status} onChange={(e) => setFilter({ status: e.target.value })} aria-label="Status filter">
            <option value="">any</option>
            {WORKFLOW_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Workflow name</span>
          <input value={filters.name} onChange={(e) => setFilter({ name: e.target.value })} placeholder="any" />
        </label>
        <label className="field">
          <span>Instance id prefix</span>
          <input value={filters.idPrefix} onChange={(e) => setFilter({ idPrefix: e.target.value })} placeholder="any" />
        </label>
        <label className="field">
          <span>Created from</span>
          <input type="datetime-local" value={filters.createdFrom} onChange={(e) => setFilter({ from: e.target.value })} />
        </label>
        <label className="field">
          <span>to</span>
          <input type="datetime-local" value={filters.createdTo} onChange={(e) => setFilter({ to: e.target.value })} />
        </label>
      </div>

      <nav className="counts" aria-label="Instances per status">
        <button className={filters.status === '' ? 'count active' : 'count'} onClick={() => setFilter({ status: undefined })}>
          <span className="count-n" data-testid="count-ALL">
            {counts.data ? `${counts.data.total}${counts.data.capped ? '+' : ''}` : '…'}
          </span>
          <span>all</span>
        </button>
        {WORKFLOW_STATUSES.map((s) => (
          <button key={s} className={filters.status === s ? 'count active' : 'count'} onClick={() => setFilter({ status: s })} aria-pressed={filters.status === s}>
            <span className="count-n" data-testid={`count-${s}`}>
              {counts.data ? (counts.data.counts[s] ?? 0) : '…'}
            </span>
            <Badge value={s} />
          </button>
        ))}
      </nav>
      {counts.error ? <ErrorBox error={counts.error} what="counts" /> : null}
      {notice ? (
        <p className={`notice ${notice.kind}`} role="status">
          {notice.text}
        </p>
      ) : null}

      <Section
        title="Instances"
        actions={
          <>
            <button disabled={busy || selected.size === 0} onClick={() => void act('terminate')}>
              Terminate selected ({selected.size})
            </button>
            <button disabled={busy || selected.size === 0} onClick={() => void act('purge')}>
              Purge selected
            </button>
            <button disabled={busy} onClick={() => void purgeMatching()}>
              Purge all matching
            </button>
            <button disabled={instances.length === 0} onClick={() => download(`workflows-${sidecar.appId}.json`, instances)}>
              Export JSON
            </button>
          </>
        }
      >
        {list.isPending ? <Loading what="instances" /> : null}
        {list.error ? <ErrorBox error={list.error} what="instances" /> : null}
        {list.data && instances.length === 0 ? <Empty>No workflow instances match these filters.</Empty> : null}
        {instances.length > 0 ? (
          <table className="instances">
            <thead>
              <tr>
                <th>
                  <input
                    type="checkbox"
                    aria-label="Select every instance on this page"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(instances.map((i) => i.instanceID)))}
                  />
                </th>
                <th>Instance id</th>
                <th>Workflow</th>
                <th>Status</th>
                <th>Created</th>
                <th>Last updated</th>
              </tr>
            </thead>
            <tbody>
              {instances.map((i) => (
                <tr key={i.instanceID}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${i.instanceID}`}
                      checked={selected.has(i.instanceID)}
                      onChange={() => {
                        const next = new Set(selected);
                        if (next.has(i.instanceID)) next.delete(i.instanceID);
                        else next.add(i.instanceID);
                        setSelected(next);
                      }}
                    />
                  </td>
                  <td className="mono">
                    <Link to={instanceHref(sidecar.id, i.instanceID)}>{i.instanceID}</Link>
                  </td>
                  <td>{i.workflowName}</td>
                  <td>
                    <Badge value={i.runtimeStatus} />
                    {i.stuck ? <Badge value="stuck" title={`no progress since ${i.stuckSince ?? '?'}`} /> : null}
                    {i.waitingForWorker ? <Badge value="waiting for worker" /> : null}
                  </td>
                  <td>
                    <Time iso={i.createdAt} />
                  </td>
                  <td>
                    <Time iso={i.lastUpdatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <div className="pager">
          <button disabled={tokens.length === 0} onClick={() => setParams({ pages: tokens.length > 1 ? JSON.stringify(tokens.slice(0, -1)) : undefined }, true)}>
            ← Newer
          </button>
          <span>Page {tokens.length + 1}</span>
          <button
            disabled={!list.data?.continuationToken}
            onClick={() => setParams({ pages: JSON.stringify([...tokens, list.data?.continuationToken ?? '']) }, true)}
          >
            Older →
          </button>
        </div>
      </Section>

      <HealthOverview
        sidecarId={id}
        ready={list.data !== undefined}
        window={healthWindow(params.get('window'))}
        onWindow={(w) => setParams({ window: w === '1h' ? undefined : w }, true)}
        onPick={(name, status) => setFilter({ name, status })}
      />
    </>
  );
}
