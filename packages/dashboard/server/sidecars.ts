/**
 * The sidecars the dashboard shows: every live sidecar of the local name-resolution registry
 * (`WEFT_REGISTRY_DIR`, as `weft list` reads it) plus any sidecar given by address (`--sidecar`),
 * each checked with `/v1.0/healthz`. Tokens stay here; the browser only ever sees ids.
 */
import { listRegistry } from '@weft/runtime';
import type { RegistryEntry } from '@weft/runtime';
import type { SidecarSummary } from '../src/shared/api.js';

/** A sidecar given by address. */
export interface ExplicitSidecar {
  /** Base URL of its HTTP API, e.g. `http://10.0.0.5:3500`. */
  url: string;
  /** Its `DAPR_API_TOKEN`, if it has one. */
  token?: string;
}

/** A sidecar with what the server needs to call it. */
export interface KnownSidecar extends Omit<SidecarSummary, 'metrics'> {
  token?: string;
  appLogPath?: string;
  daprdLogPath?: string;
  /** `http://address:port/metrics`, when the sidecar published its metrics port. */
  metricsUrl?: string;
}

/** How long a health probe may take before the sidecar counts as down. */
const HEALTH_TIMEOUT_MS = 1500;

async function probe(url: string, token: string | undefined): Promise<{ healthy: boolean; error?: string }> {
  try {
    const res = await fetch(`${url}/v1.0/healthz`, {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      headers: token ? { 'dapr-api-token': token } : {},
    });
    await res.arrayBuffer();
    return res.status === 204 || res.status === 200 ? { healthy: true } : { healthy: false, error: `healthz answered HTTP ${res.status}` };
  } catch (err) {
    return { healthy: false, error: (err as Error).message };
  }
}

function fromRegistry(entry: RegistryEntry, token: string | undefined): Omit<KnownSidecar, 'healthy'> {
  const extra = entry.extra ?? {};
  const host = entry.host === '0.0.0.0' || entry.host === '' ? '127.0.0.1' : entry.host;
  const appPid = Number(extra['appPid']);
  const metricsHost = !extra['metricsAddress'] || extra['metricsAddress'] === '0.0.0.0' ? '127.0.0.1' : extra['metricsAddress'];
  return {
    id: entry.namespace ? `${entry.appId}.${entry.namespace}` : entry.appId,
    appId: entry.appId,
    httpUrl: `http://${host.includes(':') ? `[${host}]` : host}:${entry.httpPort}`,
    source: 'registry',
    httpPort: entry.httpPort,
    grpcPort: entry.grpcPort,
    pid: entry.pid,
    startedAt: entry.created,
    logs: { app: Boolean(extra['appLogPath']), daprd: Boolean(extra['daprdLogPath']) },
    ...(entry.appPort ? { appPort: entry.appPort } : {}),
    ...(Number.isInteger(appPid) && appPid > 0 ? { appPid } : {}),
    ...(extra['command'] ? { command: extra['command'] } : {}),
    ...(extra['appLogPath'] ? { appLogPath: extra['appLogPath'] } : {}),
    ...(extra['daprdLogPath'] ? { daprdLogPath: extra['daprdLogPath'] } : {}),
    ...(token ? { token } : {}),
    ...(extra['metricsPort'] ? { metricsUrl: `http://${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${extra['metricsPort']}/metrics` } : {}),
  };
}

/** Options of {@link SidecarDirectory}. */
export interface SidecarDirectoryOptions {
  /** The registry directory to read; undefined turns local discovery off. */
  registryDir?: string;
  explicit: readonly ExplicitSidecar[];
  /** Token for registry sidecars (they usually share `DAPR_API_TOKEN` with the dashboard's env). */
  registryToken?: string;
}

/** Finds and health-checks sidecars. */
export class SidecarDirectory {
  private known: KnownSidecar[] = [];
  private readonly firstSeen = new Map<string, string>();

  constructor(private readonly options: SidecarDirectoryOptions) {}

  /** Re-reads the registry and probes every sidecar; returns the new list. */
  async refresh(): Promise<KnownSidecar[]> {
    const found: Omit<KnownSidecar, 'healthy'>[] = [];
    if (this.options.registryDir) {
      for (const entry of await listRegistry(this.options.registryDir)) found.push(fromRegistry(entry, this.options.registryToken));
    }
    for (const sidecar of this.options.explicit) {
      const url = sidecar.url.replace(/\/+$/, '');
      const id = new URL(url).host;
      const first = this.firstSeen.get(id) ?? new Date().toISOString();
      this.firstSeen.set(id, first);
      found.push({ id, appId: id, httpUrl: url, source: 'flag', startedAt: first, logs: { app: false, daprd: false }, ...(sidecar.token ? { token: sidecar.token } : {}) });
    }
    const probed = await Promise.all(
      found.map(async (s): Promise<KnownSidecar> => {
        const health = await probe(s.httpUrl, s.token);
        let appId = s.appId;
        // A sidecar given by address is named by the app id its metadata reports.
        if (s.source === 'flag' && health.healthy) appId = (await this.metadataAppId(s.httpUrl, s.token)) ?? appId;
        return { ...s, appId, healthy: health.healthy, ...(health.error ? { healthError: health.error } : {}) };
      }),
    );
    this.known = probed;
    return probed;
  }

  private async metadataAppId(url: string, token: string | undefined): Promise<string | undefined> {
    try {
      const res = await fetch(`${url}/v1.0/metadata`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS), headers: token ? { 'dapr-api-token': token } : {} });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { id?: unknown };
      return typeof body.id === 'string' && body.id !== '' ? body.id : undefined;
    } catch {
      return undefined;
    }
  }

  /** The sidecars of the last refresh. */
  list(): KnownSidecar[] {
    return this.known;
  }

  /** A sidecar by dashboard id (refreshing once when it is not known yet). */
  async get(id: string): Promise<KnownSidecar | undefined> {
    return this.known.find((s) => s.id === id) ?? (await this.refresh()).find((s) => s.id === id);
  }
}

/** The public part of a sidecar (no token, no file paths). */
export function summary(s: KnownSidecar): SidecarSummary {
  const { token: _token, appLogPath: _a, daprdLogPath: _d, metricsUrl: _m, ...rest } = s;
  return { ...rest, metrics: Boolean(s.metricsUrl) };
}
