/** The sidecar list and the current app selection (the `app` URL parameter). */
import { useQuery } from '@tanstack/react-query';
import type { DaprMetadata, SidecarSummary } from '../shared/api.js';
import { fetchSidecars, keys, sidecarJson } from './client.js';
import { useParams } from '../router.js';

/** Every sidecar the dashboard knows, kept fresh by server-sent events. */
export function useSidecars() {
  return useQuery({ queryKey: keys.sidecars, queryFn: fetchSidecars, staleTime: Infinity });
}

/** Picks the selected sidecar: the `app` parameter, else the first healthy one. */
export function pickSidecar(sidecars: readonly SidecarSummary[], wanted: string | null): SidecarSummary | undefined {
  if (wanted) return sidecars.find((s) => s.id === wanted);
  return sidecars.find((s) => s.healthy) ?? sidecars[0];
}

/** The selected sidecar and a setter that writes `app` to the URL. */
export function useSelectedSidecar(): { sidecar: SidecarSummary | undefined; sidecars: SidecarSummary[]; loading: boolean; error: unknown; select: (id: string) => void } {
  const { data, isPending, error } = useSidecars();
  const [params, setParams] = useParams();
  const sidecars = data?.sidecars ?? [];
  return {
    sidecar: pickSidecar(sidecars, params.get('app')),
    sidecars,
    loading: isPending,
    error,
    select: (id) => setParams({ app: id }, true),
  };
}

/** A sidecar's `/v1.0/metadata`. */
export function useMetadata(sidecarId: string | undefined) {
  return useQuery({
    queryKey: keys.metadata(sidecarId ?? ''),
    queryFn: () => sidecarJson<DaprMetadata>(sidecarId ?? '', '/v1.0/metadata'),
    enabled: Boolean(sidecarId),
    meta: { live: true },
  });
}
