import { describe, expect, it } from 'vitest';
import { IDENTITY_MISMATCH } from './mtls.js';
import { describeTlsFailure } from './tls-failure.js';

const error = (code: string, message: string, cause?: unknown) => Object.assign(new Error(message, cause ? { cause } : undefined), { code });

describe('TLS failure descriptions', () => {
  it('says the callee does not speak TLS when the handshake meets plain HTTP', () => {
    const text = describeTlsFailure(error('ERR_SSL_WRONG_VERSION_NUMBER', 'SSL routines:ssl3_get_record:wrong version number'), 'orders');
    expect(text).toMatch(/^mTLS handshake with the sidecar of orders failed: it does not speak TLS/);
  });

  it("says the callee's certificate is not trusted, with OpenSSL's verify code", () => {
    expect(describeTlsFailure(error('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'orders')).toContain(
      'its certificate is not signed by a trust anchor of this sidecar (SELF_SIGNED_CERT_IN_CHAIN)',
    );
  });

  it("says the callee refused this sidecar's certificate on a TLS alert", () => {
    expect(describeTlsFailure(error('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'), 'orders')).toContain("it refused this sidecar's certificate");
  });

  it('passes the identity mismatch through, found on a wrapped cause', () => {
    const cause = error(IDENTITY_MISMATCH, 'its certificate identifies spiffe://public/ns/default/cart, expected spiffe://<trust domain>/ns/default/orders');
    expect(describeTlsFailure(new Error('fetch failed', { cause }), 'orders')).toBe(`mTLS handshake with the sidecar of orders failed: ${cause.message}`);
  });

  it('leaves errors that are not about TLS to their own message', () => {
    expect(describeTlsFailure(error('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'orders')).toBeUndefined();
  });
});
