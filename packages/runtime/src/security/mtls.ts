/**
 * Mutual TLS between sidecars with user-provided certificates. Holds the current certificates, gives
 * the internal server its TLS options (client certificates required and verified against the trust
 * anchors) and the dialling side its options (the callee's certificate verified against the trust
 * anchors, and its SPIFFE ID checked to be the app it meant to reach, path `/ns/<ns>/<appId>`; the trust
 * domain is not checked, as daprd's `GRPCDialOptionMTLSUnknownTrustDomain` does not).
 *
 * Rotation: certificate files are watched (their directories, so atomic renames and Kubernetes
 * secret symlink swaps are seen) and polled as a fallback; changed files that pass every start-up
 * check are used by new connections at once, open connections keep the certificate they started with.
 * Files that fail a check are logged and the previous certificates stay.
 */
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import type { Logger } from '../logging/logger.js';
import type { MtlsMetrics } from '../observability/mtls-metrics.js';
import { formatSpiffeId, spiffeIdOf, spiffeUriOf } from './spiffe.js';
import type { SpiffeId } from './spiffe.js';
import { TlsConfigError, checkTlsMaterial, describeSource, loadTlsMaterial, readSource } from './tls-material.js';
import type { ExpectedIdentity, MtlsSources, TlsMaterial } from './tls-material.js';

/** What {@link Mtls.start} needs besides the sources. */
export interface MtlsDeps {
  logger: Logger;
  metrics?: MtlsMetrics | undefined;
  /** Fallback re-read of the files when no change event came. @default 30000 */
  pollIntervalMs?: number;
}

/** The code of the error a dial fails with when the callee's SPIFFE ID is not the app it meant to reach. */
export const IDENTITY_MISMATCH = 'ERR_WEFT_TLS_PEER_IDENTITY';

/** Debounce for file events: a rotation usually writes several files in a row. */
const SETTLE_MS = 200;

/** The mTLS state of one sidecar. */
export class Mtls {
  private material: TlsMaterial;
  private readonly listeners = new Set<() => void>();
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly peers = new WeakMap<tls.TLSSocket, SpiffeId | undefined>();
  private poll: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private rejected = '';
  private closed = false;

  private constructor(
    private readonly sources: MtlsSources,
    private readonly self: ExpectedIdentity,
    private readonly deps: MtlsDeps,
    initial: TlsMaterial,
  ) {
    this.material = initial;
  }

  /** Loads and checks the certificates and starts watching their files; rejects with {@link TlsConfigError}. */
  static async start(sources: MtlsSources, self: ExpectedIdentity, deps: MtlsDeps): Promise<Mtls> {
    let material: TlsMaterial;
    try {
      material = await loadTlsMaterial(sources, self);
    } catch (err) {
      deps.metrics?.initFailed(err instanceof TlsConfigError ? err.reason : 'unknown');
      throw err;
    }
    deps.metrics?.initCompleted();
    const mtls = new Mtls(sources, self, deps, material);
    mtls.watch();
    return mtls;
  }

  /** This sidecar's SPIFFE ID. */
  get identity(): SpiffeId {
    return this.material.identity;
  }

  /** The current workload certificate. */
  get certificate(): { serialNumber: string; validTo: string } {
    return { serialNumber: this.material.leaf.serialNumber, validTo: this.material.leaf.validTo };
  }

  /** Certificate, key and trust anchors for a secure context (server `setSecureContext`, dialling). */
  contextOptions(): tls.SecureContextOptions {
    const { certChain, key, trustAnchors } = this.material;
    return { cert: certChain, key, ca: trustAnchors, minVersion: 'TLSv1.2' };
  }

  /** Options of the internal port's TLS server: a client certificate is required and verified. */
  serverOptions(): tls.TlsOptions {
    return { ...this.contextOptions(), requestCert: true, rejectUnauthorized: true };
  }

  /** Options for dialling the sidecar of `callee`: its certificate must carry its SPIFFE ID. */
  clientOptions(callee: ExpectedIdentity): tls.ConnectionOptions {
    return {
      ...this.contextOptions(),
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => checkCalleeIdentity(cert.subjectaltname, callee),
    };
  }

  /** The verified SPIFFE ID of the sidecar at the other end of a connection to the internal port. */
  peerIdentity(socket: tls.TLSSocket): SpiffeId | undefined {
    if (this.peers.has(socket)) return this.peers.get(socket);
    const id = socket.authorized ? spiffeIdOf(socket.getPeerCertificate().subjectaltname) : undefined;
    this.peers.set(socket, id);
    return id;
  }

  /** Calls `listener` whenever the certificates change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the sources now; resolves with what happened. */
  reload(): Promise<'unchanged' | 'rotated' | 'rejected'> {
    const next = this.chain.then(() => this.reloadOnce());
    this.chain = next.catch(() => {});
    return next;
  }

  /** Stops watching. */
  close(): void {
    this.closed = true;
    clearTimeout(this.pending);
    clearInterval(this.poll);
    for (const watcher of this.watchers) watcher.close();
    this.listeners.clear();
  }

  private async reloadOnce(): Promise<'unchanged' | 'rotated' | 'rejected'> {
    if (this.closed) return 'unchanged';
    const { logger, metrics } = this.deps;
    let text: { certChain: string; key: string; trustAnchors: string };
    try {
      const [certChain, key, trustAnchors] = await Promise.all([readSource(this.sources.certChain), readSource(this.sources.key), readSource(this.sources.trustAnchors)]);
      text = { certChain, key, trustAnchors };
    } catch (err) {
      return this.reject(err);
    }
    const current = this.material;
    if (text.certChain === current.certChain && text.key === current.key && text.trustAnchors === current.trustAnchors) return 'unchanged';
    const fingerprint = `${text.certChain}\0${text.key}\0${text.trustAnchors}`;
    if (fingerprint === this.rejected) return 'rejected';
    let next: TlsMaterial;
    try {
      next = checkTlsMaterial(this.sources, text, this.self);
    } catch (err) {
      this.rejected = fingerprint;
      return this.reject(err);
    }
    this.rejected = '';
    this.material = next;
    for (const listener of this.listeners) listener();
    if (next.certChain !== current.certChain || next.key !== current.key) {
      metrics?.certRotated();
      logger.info(`mTLS workload certificate reloaded: ${formatSpiffeId(next.identity)}, serial ${next.leaf.serialNumber}, valid until ${next.leaf.validTo}`);
    } else {
      logger.info(`mTLS trust anchors reloaded from ${describeSource(this.sources.trustAnchors)}`);
    }
    return 'rotated';
  }

  private reject(err: unknown): 'rejected' {
    const reason = err instanceof TlsConfigError ? err.reason : 'unknown';
    this.deps.metrics?.certRotationFailed(reason);
    this.deps.logger.warn(`mTLS certificate files changed but cannot be used; keeping the previous certificates: ${(err as Error).message}`);
    return 'rejected';
  }

  private schedule(delayMs = SETTLE_MS): void {
    if (this.closed) return;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.reload(), delayMs);
    this.pending.unref();
  }

  private watch(): void {
    const files = [this.sources.certChain, this.sources.key, this.sources.trustAnchors].flatMap((s) => ('file' in s ? [path.resolve(s.file)] : []));
    if (files.length === 0) return;
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      try {
        // Any change in the directory: renames and symlink swaps do not always name our files.
        const watcher = fs.watch(dir, { persistent: false }, () => this.schedule());
        watcher.on('error', (err) => this.deps.logger.debug(`mTLS: watching ${dir} stopped: ${err.message}`));
        this.watchers.push(watcher);
      } catch (err) {
        this.deps.logger.warn(`mTLS: cannot watch ${dir} for certificate rotation (polling instead): ${(err as Error).message}`);
      }
    }
    this.poll = setInterval(() => this.schedule(0), this.deps.pollIntervalMs ?? 30_000);
    this.poll.unref();
  }
}

/** `checkServerIdentity` for a callee: undefined when its certificate names it, else the error. */
export function checkCalleeIdentity(subjectAltName: string | undefined, callee: ExpectedIdentity): Error | undefined {
  const id = spiffeIdOf(subjectAltName);
  if (id && id.appId === callee.appId && id.namespace === callee.namespace) return undefined;
  const presented = spiffeUriOf(subjectAltName) ?? 'no SPIFFE ID';
  const err = new Error(`its certificate identifies ${presented}, expected spiffe://<trust domain>/ns/${callee.namespace}/${callee.appId}`) as NodeJS.ErrnoException;
  err.code = IDENTITY_MISMATCH;
  return err;
}
