/** Domain errors, mapped to HTTP status codes by the REST layer and to gRPC codes by the gRPC one. */

/** The thing asked for does not exist (HTTP 404, gRPC NOT_FOUND). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The change would break a uniqueness rule, e.g. a second workflow with the same name (HTTP 409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The request is well-formed but cannot be carried out in this state (HTTP 422, gRPC FAILED_PRECONDITION). */
export class PreconditionError extends Error {
  override readonly name = 'PreconditionError';
}

/** True for Postgres' unique-violation error (from `pg` and from PGlite alike). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
