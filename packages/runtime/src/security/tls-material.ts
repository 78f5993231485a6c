/**
 * The certificates of sidecar-to-sidecar mTLS, as the user provides them (Weft has no Sentry to issue
 * them): this sidecar's workload certificate chain and key, and the trust anchors that sign every
 * sidecar's certificate. Each comes from a file (`--tls-*-file`, re-read on rotation) or, as daprd
 * takes them, from PEM text in `DAPR_CERT_CHAIN`, `DAPR_CERT_KEY` and `DAPR_TRUST_ANCHORS`.
 *
 * Everything a peer would refuse later is checked here first, so a mistake is a start-up error that
 * names the file: unreadable or non-PEM input, a key that does not belong to the certificate, a CA
 * certificate given as the workload certificate (Dapr's `issuer.crt`), a certificate outside its
 * validity, no SPIFFE ID or one naming another app, and a chain that no trust anchor signs.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import { formatSpiffeId, spiffeIdOf, spiffeUriOf } from './spiffe.js';
import type { SpiffeId } from './spiffe.js';

/** Where one PEM input comes from. */
export type PemSource = { file: string; flag?: string } | { env: string; pem: string };

/** The three inputs of mTLS. */
export interface MtlsSources {
  /** This sidecar's certificate chain, leaf first (`--tls-cert-file` or `DAPR_CERT_CHAIN`). */
  certChain: PemSource;
  /** The leaf's private key, unencrypted (`--tls-key-file` or `DAPR_CERT_KEY`). */
  key: PemSource;
  /** CA certificates that sign the sidecars' certificates (`--tls-ca-file` or `DAPR_TRUST_ANCHORS`). */
  trustAnchors: PemSource;
}

/** Loaded and checked certificates. */
export interface TlsMaterial {
  certChain: string;
  key: string;
  trustAnchors: string;
  /** The leaf certificate. */
  leaf: X509Certificate;
  /** Its SPIFFE ID. */
  identity: SpiffeId;
}

/** Why certificates were refused; `reason` is the `reason` label of `dapr_runtime_mtls_*_fail_total`. */
export type TlsFailureReason = 'read' | 'parse' | 'key_mismatch' | 'ca_as_workload' | 'expired' | 'identity' | 'untrusted';

/** Certificates that cannot be used, with the file or variable they came from. */
export class TlsConfigError extends Error {
  constructor(
    readonly reason: TlsFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** How a source is named in messages: `--tls-cert-file /etc/weft/a.crt` or `DAPR_CERT_CHAIN`. */
export function describeSource(source: PemSource): string {
  return 'file' in source ? `${source.flag ? `${source.flag} ` : ''}${source.file}` : source.env;
}

/** Reads a source's text. */
export async function readSource(source: PemSource): Promise<string> {
  if (!('file' in source)) return source.pem;
  try {
    return await fs.readFile(source.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new TlsConfigError('read', `cannot read ${describeSource(source)}: ${why}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** PEM text with literal `\n` turned into newlines: env files often carry a PEM on one line. */
export function normalizePem(text: string): string {
  return text.includes('\\n') && !text.includes('\n-----') ? text.replace(/\\n/g, '\n') : text;
}

/** Every certificate of a PEM text, in order. */
export function parseCertificates(text: string, source: PemSource): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsConfigError('parse', `${describeSource(source)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsConfigError('parse', `${describeSource(source)}: certificate ${i + 1} is not a valid X.509 certificate: ${(err as Error).message}`);
    }
  });
}

function parseKey(text: string, source: PemSource): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw new TlsConfigError('parse', `${describeSource(source)} holds no usable PEM private key (encrypted keys are not supported): ${(err as Error).message}`);
  }
}

const signs = (issuer: X509Certificate, cert: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/** Whether the chain's leaf leads, through the chain's own intermediates, to one of the anchors. */
function chainsToAnchor(chain: X509Certificate[], anchors: X509Certificate[]): boolean {
  let current = chain[0];
  const intermediates = chain.slice(1);
  for (let depth = 0; current && depth <= intermediates.length; depth++) {
    const cert: X509Certificate = current;
    if (anchors.some((anchor) => anchor.fingerprint256 === cert.fingerprint256 || signs(anchor, cert))) return true;
    current = intermediates.find((i) => i !== cert && signs(i, cert));
  }
  return false;
}

/** What the workload certificate must say about this sidecar. */
export interface ExpectedIdentity {
  appId: string;
  namespace: string;
}

/** Reads and checks all three inputs; throws {@link TlsConfigError} naming the offending source. */
export async function loadTlsMaterial(sources: MtlsSources, expected: ExpectedIdentity, now = new Date()): Promise<TlsMaterial> {
  const [certChain, key, trustAnchors] = await Promise.all([readSource(sources.certChain), readSource(sources.key), readSource(sources.trustAnchors)]);
  return checkTlsMaterial(sources, { certChain, key, trustAnchors }, expected, now);
}

/** Checks already read inputs (see {@link loadTlsMaterial}). */
export function checkTlsMaterial(
  sources: MtlsSources,
  raw: { certChain: string; key: string; trustAnchors: string },
  expected: ExpectedIdentity,
  now = new Date(),
): TlsMaterial {
  const text = { certChain: normalizePem(raw.certChain), key: normalizePem(raw.key), trustAnchors: normalizePem(raw.trustAnchors) };
  const chain = parseCertificates(text.certChain, sources.certChain);
  const anchors = parseCertificates(text.trustAnchors, sources.trustAnchors);
  const privateKey = parseKey(text.key, sources.key);
  const leaf = chain[0] as X509Certificate;
  const certName = describeSource(sources.certChain);
  const want = formatSpiffeId({ trustDomain: '<trust domain>', namespace: expected.namespace, appId: expected.appId });
  if (leaf.ca) {
    throw new TlsConfigError(
      'ca_as_workload',
      `${certName} is a CA certificate (basicConstraints CA:true). Weft has no Sentry to issue workload certificates: ` +
        `give this sidecar's own certificate, signed by your CA, with the URI subject alternative name ${want}`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsConfigError('key_mismatch', `the private key in ${describeSource(sources.key)} does not belong to the certificate in ${certName}`);
  }
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    throw new TlsConfigError('expired', `${certName} is not valid now: it is valid from ${leaf.validFrom} to ${leaf.validTo}`);
  }
  const uri = spiffeUriOf(leaf.subjectAltName);
  const identity = spiffeIdOf(leaf.subjectAltName);
  if (!identity) {
    throw new TlsConfigError(
      'identity',
      uri
        ? `${certName} has the malformed SPIFFE ID ${uri}; expected ${want}`
        : `${certName} has no SPIFFE ID: add the URI subject alternative name ${want}`,
    );
  }
  if (identity.appId !== expected.appId || identity.namespace !== expected.namespace) {
    throw new TlsConfigError('identity', `${certName} identifies ${formatSpiffeId(identity)}, but this sidecar is app "${expected.appId}" in namespace "${expected.namespace}" (${want})`);
  }
  if (!chainsToAnchor(chain, anchors)) {
    throw new TlsConfigError('untrusted', `${certName} is not signed by any trust anchor in ${describeSource(sources.trustAnchors)}`);
  }
  return { certChain: text.certChain, key: text.key, trustAnchors: text.trustAnchors, leaf, identity };
}
