/**
 * Kubernetes name resolution as Dapr does it: the injector creates a `<app-id>-dapr` headless service
 * per app, so `app-id` resolves to `<app-id>-dapr.<namespace>.svc.<cluster domain>:<internal port>`
 * through cluster DNS. Nothing is published; the platform does that.
 */
import type { NameResolver, ResolvedAddress, SelfRegistration } from '../resolver.js';
import { AppNotFoundError, splitAppId } from '../resolver.js';

/** Options of {@link KubernetesResolver}. */
export interface KubernetesResolverOptions {
  /** This sidecar's namespace, used for bare app ids. @default 'default' */
  namespace?: string;
  /** @default 'cluster.local' */
  clusterDomain?: string;
  /** The callee sidecars' internal port. @default 50002 (Dapr's injected internal port) */
  port?: number;
  /** The callee sidecars' gRPC API port. @default 50001 */
  grpcPort?: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Resolves app ids to cluster DNS names. */
export class KubernetesResolver implements NameResolver {
  readonly name = 'kubernetes';
  private readonly namespace: string;
  private readonly clusterDomain: string;
  private readonly port: number;
  private readonly grpcPort: number;

  constructor(options: KubernetesResolverOptions = {}) {
    this.namespace = options.namespace || 'default';
    this.clusterDomain = options.clusterDomain ?? 'cluster.local';
    this.port = options.port ?? 50002;
    this.grpcPort = options.grpcPort ?? 50001;
  }

  register(_self: SelfRegistration): Promise<void> {
    return Promise.resolve();
  }

  update(_extra: Record<string, string>): Promise<void> {
    return Promise.resolve();
  }

  /** The address for `app-id` or `app-id.namespace`. */
  address(target: string): ResolvedAddress {
    const { appId, namespace } = splitAppId(target);
    const ns = namespace ?? this.namespace;
    // A service name must be a DNS label; refusing here gives a clear error instead of a DNS miss.
    if (!DNS_LABEL.test(`${appId}-dapr`) || !DNS_LABEL.test(ns)) {
      throw new AppNotFoundError(target, `invalid app id or namespace for Kubernetes DNS: ${target}`);
    }
    return { host: `${appId}-dapr.${ns}.svc.${this.clusterDomain}`, port: this.port, grpcPort: this.grpcPort };
  }

  resolve(target: string): Promise<ResolvedAddress> {
    try {
      return Promise.resolve(this.address(target));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
