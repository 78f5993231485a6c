/**
 * The one line `weft sidecar` and `weft run` print when a sidecar cannot start: invalid resources are
 * called invalid, a component whose backend cannot be reached says so, and a port already in use
 * names the flag the port came from.
 */
import { ComponentInitError, ResourceError } from '@weft/runtime';
import type { SidecarOptions } from '@weft/runtime';

/** The flag each listening port of the sidecar is set with. */
function portFlags(options: Pick<SidecarOptions, 'httpPort' | 'grpcPort' | 'internalPort' | 'metricsPort'>): Map<number, string> {
  const flags = new Map<number, string>();
  if (options.metricsPort) flags.set(options.metricsPort, '--metrics-port');
  if (options.internalPort) flags.set(options.internalPort, '--dapr-internal-grpc-port');
  flags.set(options.grpcPort, '--dapr-grpc-port');
  flags.set(options.httpPort, '--dapr-http-port');
  return flags;
}

/** Describes why a sidecar did not start, in one line. */
export function startFailure(err: unknown, options?: Pick<SidecarOptions, 'httpPort' | 'grpcPort' | 'internalPort' | 'metricsPort'>): string {
  if (err instanceof ComponentInitError) return `a component could not start: ${err.message}`;
  if (err instanceof ResourceError) return `invalid resources: ${err.message}`;
  const e = err as { code?: string; port?: number; address?: string; message?: string };
  if (e.code === 'EADDRINUSE') {
    const flag = options && e.port !== undefined ? portFlags(options).get(e.port) : undefined;
    const where = `${e.address ?? '127.0.0.1'}:${e.port ?? '?'}`;
    return `failed to start: port ${e.port ?? '?'} (${where}) is already in use${flag ? `; it comes from ${flag}, pick another` : ''}`;
  }
  return `failed to start: ${e.message ?? String(err)}`;
}
