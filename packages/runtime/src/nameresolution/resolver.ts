/**
 * Name resolution: how a caller's sidecar finds the callee's sidecar from an app id. A driver turns
 * `app-id` (or `app-id.namespace`) into a host and the callee sidecar's internal port, and may publish
 * this sidecar so others can find it.
 *
 * Deliberately not in the contract: load balancing policy beyond "pick one live instance", caching
 * (callers cache and invalidate on connection failure), and health of the target app (the callee
 * sidecar answers for its app).
 */

/** What a sidecar publishes about itself. */
export interface SelfRegistration {
  appId: string;
  namespace: string;
  /** Address other sidecars reach this one on. */
  host: string;
  /** The sidecar-to-sidecar (internal) port. */
  internalPort: number;
  httpPort: number;
  grpcPort: number;
  appPort?: number;
  /** The process that serves this sidecar. */
  pid: number;
  /** Free-form attributes (`weft list` reads `command`, `appPid`, `runTemplatePath`, log paths). */
  extra?: Record<string, string>;
}

/** Where to reach a callee's sidecar. */
export interface ResolvedAddress {
  host: string;
  port: number;
  /** The callee sidecar's gRPC API port, for proxied gRPC calls. */
  grpcPort?: number;
}

/** Thrown when no live instance of an app id is known. */
export class AppNotFoundError extends Error {
  constructor(readonly appId: string, detail?: string) {
    super(detail ?? `couldn't find service: ${appId}`);
    this.name = 'AppNotFoundError';
  }
}

/** A name resolution driver. */
export interface NameResolver {
  /** Driver name, e.g. `local`, `kubernetes`. */
  readonly name: string;
  /** Publishes this sidecar; a no-op for drivers where the platform does that (Kubernetes). */
  register(self: SelfRegistration): Promise<void>;
  /** Updates the published attributes of this sidecar. */
  update(extra: Record<string, string>): Promise<void>;
  /** Resolves an app id (optionally `app-id.namespace`); rejects with {@link AppNotFoundError}. */
  resolve(appId: string): Promise<ResolvedAddress>;
  /** Withdraws this sidecar's publication. */
  close(): Promise<void>;
}

/** Splits `app-id.namespace` into its parts; a bare id has no namespace. */
export function splitAppId(target: string): { appId: string; namespace: string | undefined } {
  const dot = target.indexOf('.');
  if (dot === -1) return { appId: target, namespace: undefined };
  return { appId: target.slice(0, dot), namespace: target.slice(dot + 1) };
}
