/**
 * SPIFFE identities of Dapr workloads, `spiffe://<trustDomain>/ns/<namespace>/<appId>`, read from a
 * certificate's URI subject alternative names the way daprd reads them: the first URI SAN that starts
 * with `spiffe://` is the identity, and its path must be `/ns/<namespace>/<appId>` (further segments are
 * tolerated, as Dapr keeps room for them).
 *
 * Deliberately not here: DNS SAN or common-name fallbacks. A trust anchor may sign certificates for
 * other purposes (a web server with `CN=orders`); only an explicit SPIFFE URI names a workload.
 */

/** A parsed Dapr SPIFFE ID. */
export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  appId: string;
}

/** Dapr's default trust domain (`accessControl.trustDomain` and per-policy `trustDomain`). */
export const DEFAULT_TRUST_DOMAIN = 'public';

/** Dapr's namespace when `NAMESPACE` is not set (self-hosted). */
export const DEFAULT_NAMESPACE = 'default';

const PREFIX = 'spiffe://';

/** Parses `spiffe://td/ns/namespace/appId`; undefined when the URI is not a Dapr SPIFFE ID. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  if (!uri.startsWith(PREFIX)) return undefined;
  const parts = uri.slice(PREFIX.length).split('/');
  const [trustDomain, ns, namespace, appId] = parts;
  if (!trustDomain || ns !== 'ns' || !namespace || !appId) return undefined;
  return { trustDomain, namespace, appId };
}

/** The URI of an identity. */
export function formatSpiffeId(id: SpiffeId): string {
  return `${PREFIX}${id.trustDomain}/ns/${id.namespace}/${id.appId}`;
}

/**
 * The entries of a subject alternative name string as Node prints it
 * (`X509Certificate.subjectAltName`, `PeerCertificate.subjectaltname`): `DNS:a, URI:spiffe://…`, where a
 * value holding a comma or quote is JSON-quoted.
 */
export function subjectAltNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    const colon = text.indexOf(':', i);
    if (colon === -1) break;
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(i, end + 1)) as string;
      } catch {
        value = text.slice(i + 1, end);
      }
      i = end + 1;
    } else {
      const comma = text.indexOf(', ', i);
      const end = comma === -1 ? text.length : comma;
      value = text.slice(i, end);
      i = end;
    }
    out.push({ type, value });
  }
  return out;
}

/** The first `spiffe://` URI SAN, as daprd picks it (undefined when there is none). */
export function spiffeUriOf(subjectAltName: string | undefined): string | undefined {
  return subjectAltNames(subjectAltName).find((san) => san.type === 'URI' && san.value.startsWith(PREFIX))?.value;
}

/** The Dapr SPIFFE ID a certificate carries, or undefined (none, or not of Dapr's form). */
export function spiffeIdOf(subjectAltName: string | undefined): SpiffeId | undefined {
  const uri = spiffeUriOf(subjectAltName);
  return uri === undefined ? undefined : parseSpiffeId(uri);
}
