/** Pub/sub data: recent traffic (live tail), dead letters and their replay, through the admin API. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { DeadLetterEntry, PubSubTrafficEntry } from '@weft/runtime';
import { keys, sidecarJson, sidecarSend } from '../../api/client.js';

const ADMIN = '/v1.0-weft/admin/pubsub';

/** The recent deliveries of one app, optionally of one topic; refreshed on every live tick. */
export function useTraffic(sidecarId: string, topic: string) {
  return useQuery({
    queryKey: keys.traffic(sidecarId, topic),
    queryFn: async () => (await sidecarJson<{ entries: PubSubTrafficEntry[] }>(sidecarId, `${ADMIN}/traffic?limit=200${topic ? `&topic=${encodeURIComponent(topic)}` : ''}`)).entries,
    enabled: sidecarId !== '',
    meta: { live: true },
  });
}

/** The dead-lettered messages an app's sidecar holds. */
export function useDeadLetters(sidecarId: string) {
  return useQuery({
    queryKey: keys.deadLetters(sidecarId),
    queryFn: async () => (await sidecarJson<{ deadLetters: DeadLetterEntry[] }>(sidecarId, `${ADMIN}/deadletters`)).deadLetters,
    enabled: sidecarId !== '',
    meta: { live: true },
  });
}

/** Republishes a dead letter to its original topic. */
export function useReplay(sidecarId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => JSON.parse((await sidecarSend(sidecarId, 'POST', `${ADMIN}/deadletters/${encodeURIComponent(id)}/replay`)).text) as { replays: number; topic: string },
    onSettled: () => client.invalidateQueries({ queryKey: ['sidecar', sidecarId] }),
  });
}
