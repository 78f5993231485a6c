/** Network failures of a driver connecting to its backend, in words a user can act on. */

/** A network error in words a user can act on. */
export function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return e.message ?? String(err);
  }
}
