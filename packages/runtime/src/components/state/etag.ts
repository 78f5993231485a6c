/**
 * The optimistic-concurrency rules every store applies, in one place for the stores that check them
 * in process (in-memory, SQLite). Redis and Postgres apply the same rules inside Lua and SQL.
 */
import type { StateDeleteRequest, StateItem, StateSetRequest } from './store.js';
import { ETagInvalidError, ETagMismatchError } from './store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rejects an etag that is not a UUID (the format of stores that mint UUID etags). */
export function assertUuidEtag(etag: string | undefined): void {
  if (etag !== undefined && etag !== '' && !UUID.test(etag)) throw new ETagInvalidError(etag);
}

/** Rejects an etag that is not a non-negative integer (the format of version-counter stores). */
export function assertNumericEtag(etag: string | undefined): void {
  if (etag !== undefined && etag !== '' && !/^\d{1,18}$/.test(etag)) throw new ETagInvalidError(etag);
}

/**
 * Checks a write against the current item: with an etag it must match; with `first-write` and no
 * etag the key must not exist yet; otherwise last write wins.
 */
export function checkWrite(key: string, current: StateItem | undefined, request: StateSetRequest | StateDeleteRequest): void {
  const etag = request.etag;
  if (etag !== undefined && etag !== '') {
    if (!current || current.etag !== etag) throw new ETagMismatchError(key);
    return;
  }
  const isSet = 'value' in request;
  if (isSet && request.options?.concurrency === 'first-write' && current) throw new ETagMismatchError(key);
}

/** The absolute expiry for a TTL in seconds (undefined for no TTL or -1). */
export function expiryFromTtl(ttlSeconds: number | undefined, now = Date.now()): Date | undefined {
  if (ttlSeconds === undefined || ttlSeconds < 0) return undefined;
  return new Date(now + ttlSeconds * 1000);
}
