/**
 * The one check of a presented API token (`dapr-api-token`, the dashboard's token) against the
 * configured secret. Every entry point — the HTTP and gRPC APIs, the gRPC proxy, the dashboard — goes
 * through {@link tokenMatches}, so none can fall back to `===`, whose early exit on the first differing
 * byte lets a caller guess a token byte by byte from response times.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A value as transports hand it over: a header (maybe repeated), gRPC metadata, or nothing. */
export type PresentedToken = string | Buffer | readonly (string | Buffer)[] | null | undefined;

function digest(value: string | Buffer): Buffer {
  // Hashing first gives both sides the same length, so neither the comparison nor a length check
  // tells the caller how long the secret is.
  return createHash('sha256').update(value).digest();
}

/**
 * True when `given` equals `expected`, compared in constant time. A repeated header or metadata key
 * counts only when it carries exactly one value; an empty expected token never matches (a caller
 * decides beforehand whether a token is required at all).
 */
export function tokenMatches(expected: string | Buffer, given: PresentedToken): boolean {
  let value: string | Buffer | undefined;
  if (Array.isArray(given)) value = given.length === 1 ? (given[0] as string | Buffer) : undefined;
  else value = (given ?? undefined) as string | Buffer | undefined;
  if (value === undefined || expected.length === 0) return false;
  return timingSafeEqual(digest(expected), digest(value));
}
