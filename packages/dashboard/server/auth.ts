/**
 * Who may use the dashboard. Bound to loopback without a token, only pages whose `Host` is a loopback
 * name are served (a DNS-rebinding page on another site cannot drive the proxy). With a token, every
 * request carries it: `Authorization: Bearer`, or the cookie set when the page is opened with
 * `?token=`.
 */
import type http from 'node:http';
import { tokenMatches } from '@weft/runtime';

/** The cookie that carries the token after `?token=` was used once. */
export const TOKEN_COOKIE = 'weft_dashboard_token';

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Reads one cookie. */
export function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** What to do with a request. */
export type AuthDecision = { allow: true } | { allow: false; status: 401 | 403; reason: string };

/** Decides whether a request may proceed. */
export function authorize(req: http.IncomingMessage, token: string | undefined): AuthDecision {
  if (token) {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (tokenMatches(token, bearer) || tokenMatches(token, cookie(req, TOKEN_COOKIE))) return { allow: true };
    return { allow: false, status: 401, reason: 'this dashboard requires a token: open it as /?token=<token> or send Authorization: Bearer <token>' };
  }
  const hostHeader = req.headers.host ?? '';
  const hostname = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.split(':')[0] ?? '';
  if (!isLoopbackHost(hostname)) return { allow: false, status: 403, reason: `requests for host "${hostHeader}" are refused: without a token the dashboard serves loopback names only` };
  return { allow: true };
}
