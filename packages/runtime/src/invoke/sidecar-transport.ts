/**
 * How a caller's sidecar dials a callee's internal port for HTTP invocation: plain HTTP, or mTLS where
 * each new connection presents this sidecar's certificate and checks that the callee's certificate is
 * signed by a trust anchor and carries the SPIFFE ID of the app the call is for.
 *
 * undici opens connections lazily, per origin, so the identity a connection must show is remembered
 * per `host:port` when the forwarder picks the origin, and looked up when undici connects. Origins
 * never announced that way (external `HTTPEndpoint`s sharing the pool) keep ordinary TLS.
 */
import type { Agent, buildConnector } from 'undici';
import { undici } from '../util/load-undici.js';
import { splitAppId } from '../nameresolution/resolver.js';
import type { Mtls } from '../security/mtls.js';
import { DEFAULT_NAMESPACE } from '../security/spiffe.js';
import { describeTlsFailure } from '../security/tls-failure.js';
import type { ExpectedIdentity } from '../security/tls-material.js';

/** The dialling side of sidecar-to-sidecar HTTP. */
export interface SidecarTransport {
  /** The origin of the sidecar of `target` (`app` or `app.namespace`) listening at `host:port`. */
  origin(host: string, port: number, target: string): string;
  /** undici's `connect` option for the forwarder's pool. */
  readonly connect: Agent.Options['connect'];
  /** A readable cause for a failed call to `callee`, or undefined to keep the error's own message. */
  describe(err: unknown, callee: string): string | undefined;
}

const CONNECT_TIMEOUT_MS = 5_000;
const bracket = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
const key = (host: string, port: string | number) => `${host.replace(/^\[|\]$/g, '')}:${String(port)}`;

/** Plain HTTP/1.1 (mTLS off). */
export const plainTransport: SidecarTransport = {
  origin: (host, port) => `http://${bracket(host)}:${port}`,
  connect: { timeout: CONNECT_TIMEOUT_MS },
  describe: () => undefined,
};

/** The identity the sidecar of `target` must present; a bare app id is in this sidecar's namespace. */
export function calleeIdentity(target: string, ownNamespace: string): ExpectedIdentity {
  const { appId, namespace } = splitAppId(target);
  return { appId, namespace: namespace ?? (ownNamespace || DEFAULT_NAMESPACE) };
}

/** HTTP/1.1 over mTLS (no TLS session reuse: every connection is verified in full). */
export function mtlsTransport(mtls: Mtls, ownNamespace: string): SidecarTransport {
  const expected = new Map<string, ExpectedIdentity>();
  // Built at the first connection, when the forwarder has loaded undici anyway.
  let ordinary: buildConnector.connector | undefined;
  const connect = (options: buildConnector.Options, callback: buildConnector.Callback): void => {
    const callee = options.protocol === 'https:' ? expected.get(key(options.hostname, options.port)) : undefined;
    if (!callee) {
      ordinary ??= undici().buildConnector({ timeout: CONNECT_TIMEOUT_MS });
      ordinary(options, callback);
      return;
    }
    // Built per connection so a rotated certificate is used from the next connection on.
    undici().buildConnector({ timeout: CONNECT_TIMEOUT_MS, maxCachedSessions: 0, ...mtls.clientOptions(callee) })(options, callback);
  };
  return {
    origin(host, port, target) {
      expected.set(key(host, port), calleeIdentity(target, ownNamespace));
      return `https://${bracket(host)}:${port}`;
    },
    connect,
    describe: describeTlsFailure,
  };
}
