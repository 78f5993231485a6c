/**
 * URL-state routing: the path names the page, the query string holds its filters, so every view can
 * be shared as a link and the back button works. Small on purpose: five pages and a detail view do
 * not need a router library.
 */
import { useCallback, useSyncExternalStore } from 'react';

/** The pages of the dashboard. */
export type Page = 'apps' | 'components' | 'workflows' | 'instance' | 'pubsub' | 'state' | 'logs' | 'metrics';

/** A parsed location. */
export interface Route {
  page: Page;
  /** For `instance`: the sidecar id and instance id from the path. */
  sidecar?: string;
  instanceId?: string;
  params: URLSearchParams;
}

const PAGES: readonly Page[] = ['apps', 'components', 'workflows', 'pubsub', 'state', 'logs', 'metrics'];

/** Parses a path and query string into a {@link Route}. */
export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'workflows' && parts.length >= 3) return { page: 'instance', sidecar: parts[1]!, instanceId: parts.slice(2).join('/'), params };
  const page = (PAGES as readonly string[]).includes(parts[0] ?? '') ? (parts[0] as Page) : 'apps';
  return { page, params };
}

/** Builds a link: a path plus the non-empty params. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The link of an instance page. */
export function instanceHref(sidecar: string, instanceId: string): string {
  return `/workflows/${encodeURIComponent(sidecar)}/${encodeURIComponent(instanceId)}`;
}

const listeners = new Set<() => void>();
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}
const snapshot = () => window.location.pathname + window.location.search;

/** Goes to a link without reloading; `replace` keeps the history entry (filter typing). */
export function navigate(to: string, replace = false): void {
  if (to === snapshot()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const l of listeners) l();
}

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  const location = useSyncExternalStore(subscribe, snapshot);
  const q = location.indexOf('?');
  return parseRoute(q === -1 ? location : location.slice(0, q), q === -1 ? '' : location.slice(q));
}

/** Reads and updates the current page's query params (replacing the history entry). */
export function useParams(): [URLSearchParams, (changes: Record<string, string | undefined>, push?: boolean) => void] {
  const route = useRoute();
  const update = useCallback((changes: Record<string, string | undefined>, push = false) => {
    const params = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') params.delete(k);
      else params.set(k, v);
    }
    const qs = params.toString();
    navigate(window.location.pathname + (qs ? `?${qs}` : ''), !push);
  }, []);
  return [route.params, update];
}
