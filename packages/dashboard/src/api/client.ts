/**
 * The browser's only door to data: the dashboard server's `/api` (sidecar list, counts, log tails)
 * and its proxy to each sidecar's HTTP API. Errors become {@link ApiError} with Dapr's `errorCode`
 * when the sidecar sent one, so views can say what went wrong (a stale ETag, say).
 */
import type { SidecarsResponse } from '../shared/api.js';

/** A failed call: HTTP status plus Dapr's error code and message when present. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** Reads an error body: Dapr's `{errorCode, message}`, the server's `{error}`, or plain text. */
export function errorFromBody(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { errorCode?: unknown; message?: unknown; error?: unknown };
    const message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : text;
    return new ApiError(status, message || `HTTP ${status}`, typeof body.errorCode === 'string' ? body.errorCode : undefined);
  } catch {
    return new ApiError(status, text || `HTTP ${status}`);
  }
}

/** What a raw call returns. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** One request; non-2xx becomes an {@link ApiError}. */
export async function request(path: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  const text = await res.text();
  if (!res.ok) throw errorFromBody(res.status, text);
  return { status: res.status, headers: res.headers, text };
}

/** A JSON GET (an empty 204 body reads as undefined). */
export async function getJson<T>(path: string): Promise<T> {
  const { text } = await request(path);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** The proxy path of a sidecar API path, e.g. `/v1.0/metadata`. */
export function sidecarPath(sidecarId: string, apiPath: string): string {
  return `/api/sidecars/${encodeURIComponent(sidecarId)}/proxy${apiPath}`;
}

/** A JSON GET on a sidecar's API. */
export function sidecarJson<T>(sidecarId: string, apiPath: string): Promise<T> {
  return getJson<T>(sidecarPath(sidecarId, apiPath));
}

/** A POST/PUT/DELETE on a sidecar's API with an optional JSON (or raw text) body. */
export function sidecarSend(sidecarId: string, method: string, apiPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  return request(sidecarPath(sidecarId, apiPath), init);
}

/** The sidecar list. */
export function fetchSidecars(): Promise<SidecarsResponse> {
  return getJson<SidecarsResponse>('/api/sidecars');
}

/** Query keys, one place, so live updates can invalidate by prefix. */
export const keys = {
  sidecars: ['sidecars'] as const,
  metadata: (id: string) => ['sidecar', id, 'metadata'] as const,
  resources: (id: string) => ['sidecar', id, 'resources'] as const,
  workflows: (id: string, filters: string) => ['sidecar', id, 'workflows', filters] as const,
  workflowCounts: (id: string, filters: string) => ['sidecar', id, 'workflow-counts', filters] as const,
  workflowHealth: (id: string, windowSeconds: number) => ['sidecar', id, 'workflow-health', windowSeconds] as const,
  instance: (id: string, instanceId: string) => ['sidecar', id, 'instance', instanceId] as const,
  traffic: (id: string, topic: string) => ['sidecar', id, 'traffic', topic] as const,
  deadLetters: (id: string) => ['sidecar', id, 'deadletters'] as const,
  stateKeys: (id: string, store: string, prefix: string, after: string) => ['sidecar', id, 'state', store, prefix, after] as const,
  stateValue: (id: string, store: string, key: string) => ['sidecar', id, 'state-value', store, key] as const,
  logs: (id: string, source: string, level: string, text: string) => ['sidecar', id, 'logs', source, level, text] as const,
};
