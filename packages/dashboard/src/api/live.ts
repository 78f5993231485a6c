/**
 * Live updates: one EventSource on `/api/events`. A `sidecars` event replaces the cached sidecar
 * list; a `tick` refetches the queries marked live (`meta: { live: true }`), so open views follow the
 * system without reloading. While the stream is down the views keep their data and say so.
 */
import { useEffect, useState } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import type { DashboardEvent, SidecarsResponse } from '../shared/api.js';
import { keys } from './client.js';

/** Applies one server event to the query cache. */
export function applyEvent(client: QueryClient, event: DashboardEvent): void {
  if (event.type === 'sidecars') {
    client.setQueryData<SidecarsResponse>(keys.sidecars, (old) => (old ? { ...old, sidecars: event.sidecars } : old));
    return;
  }
  void client.invalidateQueries({ predicate: (q) => q.meta?.['live'] === true && q.getObserversCount() > 0 });
}

/** Connects to the event stream; returns whether it is connected. */
export function useLiveUpdates(client: QueryClient): boolean {
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/events');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.onmessage = (m: MessageEvent<string>) => {
      try {
        applyEvent(client, JSON.parse(m.data) as DashboardEvent);
      } catch {
        // A malformed frame is skipped; the next tick refreshes anyway.
      }
    };
    return () => source.close();
  }, [client]);
  return connected;
}
