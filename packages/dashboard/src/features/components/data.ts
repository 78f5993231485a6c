/** The resources in effect for an app (Configuration, resiliency, subscriptions, access control). */
import { useQuery } from '@tanstack/react-query';
import { keys, sidecarJson } from '../../api/client.js';
import type { AdminResources } from '../../shared/api.js';

/** The sidecar's `GET /v1.0-weft/admin/resources`. */
export function useResources(sidecarId: string | undefined) {
  return useQuery({
    queryKey: keys.resources(sidecarId ?? ''),
    queryFn: () => sidecarJson<AdminResources>(sidecarId ?? '', '/v1.0-weft/admin/resources'),
    enabled: Boolean(sidecarId),
    meta: { live: true },
  });
}

/** A subscription's routes as one line: `match → path` rules, then the default path. */
export function routesText(rules: readonly { match: string; path: string }[]): string {
  return rules.map((r) => (r.match ? `${r.match} → ${r.path}` : r.path)).join(', ');
}
