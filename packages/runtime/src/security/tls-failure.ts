/**
 * Readable causes for a failed TLS connection to another sidecar. OpenSSL's codes say what went
 * wrong at the byte level; the caller's app needs to hear which side to fix: the callee does not speak
 * TLS (mTLS is off there), the callee refused this sidecar's certificate, or this sidecar did not trust
 * or recognise the callee's.
 */
import { IDENTITY_MISMATCH } from './mtls.js';

const PLAINTEXT_PEER = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE']);
const REFUSED_BY_PEER = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);
const UNTRUSTED_PEER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);
/** Connection losses that, under mTLS, are most often the callee dropping a refused handshake. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_CANCEL']);

function codes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') out.push(e.code);
  }
  return out;
}

function innermostMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = e?.message ?? String(err);
  for (let depth = 0; e?.cause && depth < 5; depth++) {
    e = e.cause as typeof e;
    if (e?.message) message = e.message;
  }
  return message.trim().split('\n')[0] ?? message;
}

/**
 * Explains a failure to reach `callee`'s sidecar over mTLS, or returns undefined when the error is not
 * about TLS (a refused connection, a timeout) so the caller keeps its own message.
 */
export function describeTlsFailure(err: unknown, callee: string): string | undefined {
  const found = codes(err);
  const detail = innermostMessage(err);
  const has = (set: Set<string>) => found.some((c) => set.has(c));
  const prefix = `mTLS handshake with the sidecar of ${callee} failed`;
  if (found.includes(IDENTITY_MISMATCH)) return `${prefix}: ${detail}`;
  if (has(PLAINTEXT_PEER) || /wrong version number|packet length too long|http request/i.test(detail)) {
    return `${prefix}: it does not speak TLS on its internal port; enable mTLS on both sidecars (${detail})`;
  }
  if (has(UNTRUSTED_PEER)) return `${prefix}: its certificate is not signed by a trust anchor of this sidecar (${found.find((c) => UNTRUSTED_PEER.has(c)) ?? detail})`;
  if (has(REFUSED_BY_PEER)) return `${prefix}: it refused this sidecar's certificate; is it signed by a trust anchor the callee trusts? (${detail})`;
  if (has(DROPPED)) return `${prefix} or the connection was dropped; it may have refused this sidecar's certificate (${detail})`;
  return undefined;
}
