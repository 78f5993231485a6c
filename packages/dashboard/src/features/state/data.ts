/**
 * State data: keys by prefix (admin API, paged), one value with its ETag (Dapr's state API), and
 * edits that always carry the ETag they were made from, so a concurrent change is refused (409) and
 * shown instead of being overwritten.
 */
import { useQuery } from '@tanstack/react-query';
import type { AdminStateKeysPage } from '@weft/runtime';
import { ApiError, keys, request, sidecarJson, sidecarPath, sidecarSend } from '../../api/client.js';

/** A page of keys. */
export function useStateKeys(sidecarId: string, store: string, prefix: string, after: string) {
  const q = new URLSearchParams({ limit: '50', maxValueBytes: '200' });
  if (prefix) q.set('prefix', prefix);
  if (after) q.set('after', after);
  return useQuery({
    queryKey: keys.stateKeys(sidecarId, store, prefix, after),
    queryFn: () => sidecarJson<AdminStateKeysPage>(sidecarId, `/v1.0-weft/admin/state/${encodeURIComponent(store)}/keys?${q.toString()}`),
    enabled: sidecarId !== '' && store !== '',
    meta: { live: true },
    placeholderData: (previous) => previous,
  });
}

/** A value as read, with the ETag edits must carry. */
export interface StateValue {
  key: string;
  value: string;
  etag: string;
  /** ISO expiry when the key has a TTL. */
  ttlExpireTime?: string;
}

/** Reads one key; undefined when it does not exist. */
export async function readValue(sidecarId: string, store: string, key: string): Promise<StateValue | undefined> {
  const res = await request(sidecarPath(sidecarId, `/v1.0/state/${encodeURIComponent(store)}/${encodeURIComponent(key)}`));
  if (res.status === 204) return undefined;
  const ttl = res.headers.get('metadata.ttlExpireTime');
  return { key, value: res.text, etag: res.headers.get('etag') ?? '', ...(ttl ? { ttlExpireTime: ttl } : {}) };
}

/** One key's value; not live, so an edit in progress is not replaced under the user. */
export function useStateValue(sidecarId: string, store: string, key: string) {
  return useQuery({
    queryKey: keys.stateValue(sidecarId, store, key),
    queryFn: () => readValue(sidecarId, store, key),
    enabled: sidecarId !== '' && store !== '' && key !== '',
  });
}

/** What a save or delete came to. */
export type WriteResult = { ok: true } | { ok: false; conflict: boolean; message: string };

function toResult(err: unknown): WriteResult {
  if (err instanceof ApiError) return { ok: false, conflict: err.status === 409, message: `${err.errorCode ?? `HTTP ${err.status}`}: ${err.message}` };
  return { ok: false, conflict: false, message: (err as Error).message };
}

/** Parses the editor's text as the JSON value to save. */
export function parseEditedValue(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, message: `not valid JSON: ${(err as Error).message} (quote a string: "text")` };
  }
}

/** Saves a value if the key still has `etag` (first-write-wins). */
export async function saveValue(sidecarId: string, store: string, key: string, value: unknown, etag: string): Promise<WriteResult> {
  try {
    await sidecarSend(sidecarId, 'POST', `/v1.0/state/${encodeURIComponent(store)}`, [
      { key, value, ...(etag ? { etag, options: { concurrency: 'first-write' } } : {}) },
    ]);
    return { ok: true };
  } catch (err) {
    return toResult(err);
  }
}

/** Deletes a key if it still has `etag`. */
export async function deleteValue(sidecarId: string, store: string, key: string, etag: string): Promise<WriteResult> {
  try {
    await sidecarSend(sidecarId, 'DELETE', `/v1.0/state/${encodeURIComponent(store)}/${encodeURIComponent(key)}?concurrency=first-write`, undefined, etag ? { 'if-match': etag } : {});
    return { ok: true };
  } catch (err) {
    return toResult(err);
  }
}
