/** The shell: navigation, theme switch, live-update status and the routed page. */
import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useLiveUpdates } from './api/live.js';
import { useSidecars } from './api/sidecars.js';
import { href, navigate, useRoute } from './router.js';
import type { Page } from './router.js';
import { Link } from './ui/ui.js';
import { AppsPage } from './features/apps/AppsPage.js';
import { LogsPage } from './features/apps/LogsPage.js';
import { ComponentsPage } from './features/components/ComponentsPage.js';
import { WorkflowsPage } from './features/workflows/WorkflowsPage.js';
import { InstancePage } from './features/workflows/InstancePage.js';
import { PubSubPage } from './features/pubsub/PubSubPage.js';
import { StatePage } from './features/state/StatePage.js';
import { MetricsPage } from './features/metrics/MetricsPage.js';

const NAV: { page: Page; label: string; key: string }[] = [
  { page: 'apps', label: 'Apps', key: '1' },
  { page: 'components', label: 'Components', key: '2' },
  { page: 'workflows', label: 'Workflows', key: '3' },
  { page: 'pubsub', label: 'Pub/sub', key: '4' },
  { page: 'state', label: 'State', key: '5' },
  { page: 'logs', label: 'Logs', key: '6' },
  { page: 'metrics', label: 'Metrics', key: '7' },
];

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('weft-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const route = useRoute();
  const client = useQueryClient();
  const live = useLiveUpdates(client);
  const sidecars = useSidecars();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  const app = route.params.get('app') ?? route.sidecar ?? undefined;
  const active: Page = route.page === 'instance' ? 'workflows' : route.page;

  // Keys 1–7 switch pages (keeping the selected app) unless the user is typing.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.metaKey || e.ctrlKey || e.altKey || (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      const item = NAV.find((n) => n.key === e.key);
      if (item) navigate(href(`/${item.page}`, { app }));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [app]);

  useEffect(() => {
    const label = route.page === 'instance' ? `Workflow ${route.instanceId ?? ''}` : (NAV.find((n) => n.page === route.page)?.label ?? '');
    document.title = `${label} · Weft dashboard`;
  }, [route.page, route.instanceId]);

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Weft</span>
        <nav aria-label="Pages">
          {NAV.map((n) => (
            <Link key={n.page} to={href(`/${n.page}`, { app })} className={n.page === active ? 'nav active' : 'nav'}>
              {n.label}
              <kbd aria-hidden="true">{n.key}</kbd>
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        <span className={live ? 'live on' : 'live off'} role="status" title={live ? 'Live updates connected' : 'Live updates disconnected; retrying'}>
          {live ? '● live' : '○ offline'}
        </span>
        <span className="muted small">{sidecars.data ? `${sidecars.data.sidecars.filter((s) => s.healthy).length}/${sidecars.data.sidecars.length} sidecars up` : ''}</span>
        <button
          className="theme"
          onClick={() => {
            const next = theme === 'dark' ? 'light' : 'dark';
            localStorage.setItem('weft-theme', next);
            setTheme(next);
          }}
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {theme === 'dark' ? '☀ light' : '☾ dark'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'apps' ? <AppsPage /> : null}
        {route.page === 'components' ? <ComponentsPage /> : null}
        {route.page === 'workflows' ? <WorkflowsPage /> : null}
        {route.page === 'instance' && route.sidecar && route.instanceId ? <InstancePage key={`${route.sidecar}/${route.instanceId}`} sidecar={route.sidecar} instanceId={route.instanceId} /> : null}
        {route.page === 'pubsub' ? <PubSubPage /> : null}
        {route.page === 'state' ? <StatePage /> : null}
        {route.page === 'logs' ? <LogsPage /> : null}
        {route.page === 'metrics' ? <MetricsPage /> : null}
      </main>
    </>
  );
}
