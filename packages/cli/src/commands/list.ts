/**
 * `weft list [-o table|json]`: the Weft sidecars running on this machine, read from the local name
 * resolution registry (dead entries are dropped as they are read). JSON rows use `dapr list`'s keys.
 */
import { Command, Option } from 'commander';
import { listRegistry, registryDir } from '@weft/runtime';
import type { RegistryEntry } from '@weft/runtime';

/** One `dapr list` row. */
export interface ListRow {
  appId: string;
  httpPort: number;
  grpcPort: number;
  appPort: number;
  command: string;
  age: string;
  created: string;
  daprdPid: number;
  cliPid: number;
  appPid: number;
  runTemplatePath: string;
  appLogPath: string;
  daprdLogPath: string;
}

/** `5s`, `3m`, `2h`, `4d` as `dapr list` shows ages. */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A registry entry as a list row. */
export function toRow(entry: RegistryEntry, now = Date.now()): ListRow {
  const extra = entry.extra ?? {};
  const created = new Date(entry.created);
  return {
    appId: entry.appId,
    httpPort: entry.httpPort,
    grpcPort: entry.grpcPort,
    appPort: entry.appPort ?? 0,
    command: extra['command'] ?? '',
    age: humanAge(now - created.getTime()),
    created: created.toISOString().replace('T', ' ').slice(0, 19),
    daprdPid: entry.pid,
    cliPid: Number(extra['cliPid'] ?? entry.pid),
    appPid: Number(extra['appPid'] ?? 0),
    runTemplatePath: extra['runTemplatePath'] ?? '',
    appLogPath: extra['appLogPath'] ?? '',
    daprdLogPath: extra['daprdLogPath'] ?? '',
  };
}

/** Renders rows as an aligned table. */
export function renderTable(rows: readonly ListRow[]): string {
  const header = ['APP ID', 'HTTP PORT', 'GRPC PORT', 'APP PORT', 'COMMAND', 'AGE', 'CREATED', 'PID', 'APP PID'];
  const cells = rows.map((r) => [r.appId, r.httpPort, r.grpcPort, r.appPort || '', r.command, r.age, r.created, r.daprdPid, r.appPid || ''].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

/** The `list` command. */
export function listCommand(): Command {
  return new Command('list')
    .description('list the Weft sidecars running on this machine')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (values: { output: string }) => {
      const rows = (await listRegistry(registryDir(process.env))).map((e) => toRow(e));
      if (values.output === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write('No Weft instances found.\n');
      else process.stdout.write(`${renderTable(rows)}\n`);
    });
}
