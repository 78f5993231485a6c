/**
 * `weft dashboard`: the Weft dashboard on http://127.0.0.1:9999, showing the sidecars of the local
 * registry and any given with `--sidecar`. Bound beyond loopback it requires a token
 * (`--token` / `WEFT_DASHBOARD_TOKEN`) and says so. `weft run --dashboard` and `dashboard: true` in a
 * run file start the same server beside the apps.
 */
import { Command, Option } from 'commander';
import { registryDir } from '@weft/runtime';
import type { DashboardServer } from '@weft/dashboard/server';

/** The dashboard server (its HTTP server, static files and sidecar client), loaded only by the commands that serve it. */
const dashboardServer = () => import('@weft/dashboard/server');

/** What the dashboard is started with. */
export interface DashboardFlags {
  port: number;
  host: string;
  token?: string;
  sidecar: string[];
  sidecarToken?: string;
  /** Off with `--no-discover`: only `--sidecar` addresses are shown. */
  discover: boolean;
}

/** The default port, as the issue and the seed's invoice system use it. */
export const DASHBOARD_PORT = 9999;

/** Starts the dashboard and prints where it is; throws {@link DashboardConfigError} on unsafe flags. */
export async function startDashboard(flags: DashboardFlags, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<DashboardServer> {
  const { DashboardConfigError, isLoopbackHost, startDashboardServer } = await dashboardServer();
  const token = flags.token ?? env['WEFT_DASHBOARD_TOKEN'] ?? undefined;
  const sidecarToken = flags.sidecarToken ?? env['DAPR_API_TOKEN'] ?? undefined;
  for (const url of flags.sidecar) {
    if (!/^https?:\/\/[^/]+/.test(url)) throw new DashboardConfigError(`--sidecar ${url}: expected an address like http://host:3500`);
  }
  const server = await startDashboardServer({
    host: flags.host,
    port: flags.port,
    ...(token ? { token } : {}),
    ...(flags.discover ? { registryDir: registryDir(env) } : {}),
    ...(env['DAPR_API_TOKEN'] ? { registryToken: env['DAPR_API_TOKEN'] } : {}),
    sidecars: flags.sidecar.map((url) => ({ url, ...(sidecarToken ? { token: sidecarToken } : {}) })),
  });
  out.write(`Weft dashboard: ${server.url}\n`);
  if (!isLoopbackHost(flags.host)) {
    out.write(`  bound to ${flags.host}: reachable beyond this machine, so a token is required — open ${server.url}/?token=<token> once (it is then kept in a cookie)\n`);
  } else if (token) {
    out.write(`  a token is required: open ${server.url}/?token=<token> once\n`);
  }
  out.write(flags.discover ? `  sidecars: the local registry (${registryDir(env)})${flags.sidecar.length ? ` and ${flags.sidecar.join(', ')}` : ''}\n` : `  sidecars: ${flags.sidecar.join(', ') || 'none'}\n`);
  return server;
}

/** The `dashboard` command. */
export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description('open the Weft dashboard: apps, components, workflows, pub/sub and state')
    .option('-p, --port <port>', 'port to serve on', (v) => Number(v), DASHBOARD_PORT)
    .option('-H, --host <address>', 'address to bind; anything but loopback requires --token', '127.0.0.1')
    .addOption(new Option('--token <token>', 'token the browser must present (required beyond loopback)').env('WEFT_DASHBOARD_TOKEN'))
    .option('--sidecar <url>', "a sidecar's HTTP API address, e.g. http://10.0.0.5:3500 (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
    .addOption(new Option('--sidecar-token <token>', "the --sidecar addresses' API token (their DAPR_API_TOKEN)"))
    .option('--no-discover', 'do not show the sidecars of the local registry')
    .action(async (flags: DashboardFlags) => {
      const { DashboardConfigError } = await dashboardServer();
      if (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535) throw new DashboardConfigError(`--port must be a port number, got ${String(flags.port)}`);
      const server = await startDashboard(flags, process.env, process.stdout);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
