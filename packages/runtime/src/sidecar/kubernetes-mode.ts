/**
 * What `--mode kubernetes` means, as in daprd beside a pod: the internal (sidecar-to-sidecar) port is
 * 50002 on every interface, so `<app-id>-dapr` Services can route to it; health is served for the
 * kubelet on the public port 3501 on every interface; the namespace is the pod's; app ids resolve
 * through cluster DNS. Flags given explicitly still win.
 */
import fs from 'node:fs';

/** How the sidecar is deployed (`--mode`). */
export type SidecarMode = 'standalone' | 'kubernetes';

/** daprd's internal gRPC port under the injector, which the Kubernetes resolver dials. */
export const KUBERNETES_INTERNAL_PORT = 50002;

/** daprd's public (health) port under the injector, which its probes use. */
export const KUBERNETES_PUBLIC_PORT = 3501;

/** Where Kubernetes mounts the pod's namespace (service-account token volume). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The pod's namespace: `NAMESPACE` (what Dapr's injector sets from the downward API), else the
 * service-account namespace file, else `default`.
 */
export function podNamespace(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (file: string) => string | undefined = readIfPresent,
): string {
  const fromEnv = env['NAMESPACE']?.trim();
  if (fromEnv) return fromEnv;
  const fromFile = readFile(SERVICE_ACCOUNT_NAMESPACE_FILE)?.trim();
  return fromFile || 'default';
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The name resolution component to use: the Configuration's, else Kubernetes DNS in Kubernetes mode. */
export function nameResolutionComponent(configured: string | undefined, mode: SidecarMode): string | undefined {
  if (configured) return configured;
  return mode === 'kubernetes' ? 'kubernetes' : undefined;
}
