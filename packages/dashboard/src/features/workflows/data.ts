/** Workflow data: list, counts, one instance with its history, and the management actions. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AdminRerunRequest, AdminRerunResponse } from '@weft/runtime';
import type { WorkflowCountsResponse, WorkflowHealthResponse, WorkflowHistoryResponse, WorkflowInstance, WorkflowListResponse } from '../../shared/api.js';
import { ApiError, getJson, keys, sidecarJson, sidecarSend } from '../../api/client.js';

/** The list filters, as the URL and the sidecar's list API both spell them. */
export interface WorkflowFilters {
  status?: string;
  name?: string;
  idPrefix?: string;
  createdFrom?: string;
  createdTo?: string;
}

/** The list API's query string for the filters (times given as local datetime inputs become ISO). */
export function filterQuery(f: WorkflowFilters): URLSearchParams {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  if (f.name) q.set('name', f.name);
  if (f.idPrefix) q.set('idPrefix', f.idPrefix);
  for (const k of ['createdFrom', 'createdTo'] as const) {
    const v = f[k];
    if (v) {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) q.set(k, d.toISOString());
    }
  }
  return q;
}

const W = '/v1.0/workflows/dapr';

/** One page of instances. */
export function useWorkflowList(sidecarId: string, filters: WorkflowFilters, pageSize: number, token: string | undefined) {
  const q = filterQuery(filters);
  q.set('pageSize', String(pageSize));
  if (token) q.set('continuationToken', token);
  return useQuery({
    queryKey: keys.workflows(sidecarId, q.toString()),
    queryFn: () => sidecarJson<WorkflowListResponse>(sidecarId, `${W}?${q.toString()}`),
    enabled: sidecarId !== '',
    meta: { live: true },
    placeholderData: (previous) => previous,
  });
}

/** Instances per status under the filters (every status; the status filter itself is ignored). */
export function useWorkflowCounts(sidecarId: string, filters: WorkflowFilters) {
  const q = filterQuery({ ...filters, status: '' });
  return useQuery({
    queryKey: keys.workflowCounts(sidecarId, q.toString()),
    queryFn: () => getJson<WorkflowCountsResponse>(`/api/sidecars/${encodeURIComponent(sidecarId)}/workflow-counts?${q.toString()}`),
    enabled: sidecarId !== '',
    meta: { live: true },
    placeholderData: (previous) => previous,
  });
}

/** The health overview's windows, as the URL spells them (`?window=`). */
export const HEALTH_WINDOWS = { '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400 } as const;

/** The status × workflow-name overview over the last `windowSeconds`. */
export function useWorkflowHealth(sidecarId: string, windowSeconds: number) {
  return useQuery({
    queryKey: keys.workflowHealth(sidecarId, windowSeconds),
    queryFn: () => sidecarJson<WorkflowHealthResponse>(sidecarId, `/v1.0-weft/admin/workflows/health?windowSeconds=${windowSeconds}`),
    enabled: sidecarId !== '',
    meta: { live: true },
    placeholderData: (previous) => previous,
  });
}

/** One instance and its history; `instance` is undefined once purged. */
export function useInstance(sidecarId: string, instanceId: string) {
  return useQuery({
    queryKey: keys.instance(sidecarId, instanceId),
    meta: { live: true },
    queryFn: async (): Promise<{ instance: WorkflowInstance; history: WorkflowHistoryResponse['history'] } | { instance: undefined; history: [] }> => {
      const id = encodeURIComponent(instanceId);
      try {
        const [instance, history] = await Promise.all([
          sidecarJson<WorkflowInstance>(sidecarId, `${W}/${id}`),
          sidecarJson<WorkflowHistoryResponse>(sidecarId, `${W}/${id}/history`),
        ]);
        return { instance, history: history.history };
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return { instance: undefined, history: [] };
        throw err;
      }
    },
  });
}

/** A management action on one instance. */
export type InstanceAction =
  | { kind: 'terminate' | 'suspend' | 'resume' | 'purge' }
  | { kind: 'raise'; eventName: string; payload: string }
  | { kind: 'rerun'; name: string; input: string | undefined }
  /** Rerun from one step (`RerunWorkflowFromEvent`, through the admin API) with the step's input. */
  | { kind: 'rerun-from'; eventId: number; input: string; newInstanceId?: string };

const ACTION_PATH = { terminate: 'terminate', suspend: 'pause', resume: 'resume', purge: 'purge' } as const;

/** Runs an action; `rerun` and `rerun-from` resolve with the new instance id. */
export async function runAction(sidecarId: string, instanceId: string, action: InstanceAction): Promise<string | undefined> {
  const id = encodeURIComponent(instanceId);
  if (action.kind === 'raise') {
    await sidecarSend(sidecarId, 'POST', `${W}/${id}/raiseEvent/${encodeURIComponent(action.eventName)}`, action.payload === '' ? undefined : action.payload);
    return undefined;
  }
  if (action.kind === 'rerun-from') {
    const body: AdminRerunRequest = {
      eventId: action.eventId,
      input: action.input,
      ...(action.newInstanceId ? { newInstanceId: action.newInstanceId } : {}),
    };
    const res = await sidecarSend(sidecarId, 'POST', `/v1.0-weft/admin/workflows/${id}/rerun`, body);
    return (JSON.parse(res.text) as AdminRerunResponse).newInstanceID;
  }
  if (action.kind === 'rerun') {
    const res = await sidecarSend(sidecarId, 'POST', `${W}/${encodeURIComponent(action.name)}/start`, action.input);
    return (JSON.parse(res.text) as { instanceID: string }).instanceID;
  }
  await sidecarSend(sidecarId, 'POST', `${W}/${id}/${ACTION_PATH[action.kind]}`);
  return undefined;
}

/** The action as a mutation that refreshes the workflow views. */
export function useInstanceAction(sidecarId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ instanceId, action }: { instanceId: string; action: InstanceAction }) => runAction(sidecarId, instanceId, action),
    onSettled: () => client.invalidateQueries({ queryKey: ['sidecar', sidecarId] }),
  });
}

/** Purges every finished instance matching the filters; resolves with the count. */
export async function purgeWhere(sidecarId: string, filters: WorkflowFilters): Promise<number> {
  const res = await sidecarSend(sidecarId, 'DELETE', `${W}?${filterQuery(filters).toString()}`);
  return (JSON.parse(res.text) as { deletedInstanceCount: number }).deletedInstanceCount;
}

/** Runs one action on many instances, a few at a time; resolves with the failures. */
export async function bulk(sidecarId: string, instanceIds: readonly string[], action: InstanceAction, parallel = 8): Promise<{ instanceId: string; error: string }[]> {
  const failures: { instanceId: string; error: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < instanceIds.length) {
      const instanceId = instanceIds[next++]!;
      try {
        await runAction(sidecarId, instanceId, action);
      } catch (err) {
        failures.push({ instanceId, error: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, instanceIds.length) }, worker));
  return failures;
}

/** Input, output, custom status and failure from the instance's properties. */
export function instanceDetails(i: WorkflowInstance): { input?: string; output?: string; customStatus?: string; failureType?: string; failureMessage?: string } {
  const p = i.properties ?? {};
  const out: ReturnType<typeof instanceDetails> = {};
  if (p['dapr.workflow.input'] !== undefined) out.input = p['dapr.workflow.input'];
  if (p['dapr.workflow.output'] !== undefined) out.output = p['dapr.workflow.output'];
  if (p['dapr.workflow.custom_status'] !== undefined) out.customStatus = p['dapr.workflow.custom_status'];
  if (p['dapr.workflow.failure.error_type'] !== undefined) out.failureType = p['dapr.workflow.failure.error_type'];
  if (p['dapr.workflow.failure.error_message'] !== undefined) out.failureMessage = p['dapr.workflow.failure.error_message'];
  return out;
}
