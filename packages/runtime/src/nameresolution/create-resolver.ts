/** Picks the name resolution driver: Kubernetes DNS when asked for, the local registry otherwise. */
import { KubernetesResolver } from './kubernetes/kubernetes-resolver.js';
import { LocalResolver } from './local/local-resolver.js';
import type { NameResolver } from './resolver.js';

/** Which driver to use and how. */
export interface ResolverSelection {
  /** `kubernetes`, or `local`/`mdns`/empty for the local registry (mDNS is what Dapr uses locally). */
  component?: string;
  namespace: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Driver configuration (`nameResolution.configuration`). */
  configuration?: Record<string, unknown>;
}

/** Creates the resolver for a selection; an unknown component name fails start-up. */
export function createResolver(selection: ResolverSelection): NameResolver {
  const component = (selection.component ?? '').toLowerCase();
  const config = selection.configuration ?? {};
  switch (component) {
    case 'kubernetes': {
      const port = Number(config['port'] ?? 50002);
      return new KubernetesResolver({
        namespace: selection.namespace || 'default',
        ...(typeof config['clusterDomain'] === 'string' ? { clusterDomain: config['clusterDomain'] } : {}),
        port,
      });
    }
    case '':
    case 'local':
    case 'mdns':
      return new LocalResolver({ env: selection.env });
    default:
      throw new Error(`unknown name resolution component "${selection.component ?? ''}" (known: local, mdns, kubernetes)`);
  }
}
