/** Network failures of a driver connecting to its backend, in words a user can act on. */

/** A network error in words a user can act on. */
export function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  // Some clients wrap the socket error; its code is still in the message.
  const code = /^E[A-Z]+$/.test(e.code ?? '') ? e.code : /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/.exec(e.message ?? '')?.[1];
  switch (code ?? e.code) {
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

/** A URL without its password, to show where a driver tried to connect. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** `cannot reach <what> at <where>: <cause>` for a failed first connection. */
export function unreachable(what: string, where: string, err: unknown): Error {
  return new Error(`cannot reach ${what} at ${where}: ${describeNetworkError(err)}`);
}
