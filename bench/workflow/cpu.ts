/**
 * CPU time of the processes that make up an engine, from `/proc/<pid>/stat` (user + system time of
 * every thread), so the benchmark can report CPU milliseconds per workflow for each part: Weft's
 * sidecar and app, Restate's server and endpoint, DBOS's process, and the Postgres backends that serve
 * the engine's own connections (found through `pg_stat_activity` by the client ports of its sockets).
 */
import fs from 'node:fs';
import pg from 'pg';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux/x86-64.

/** User + system CPU of a process in milliseconds; 0 if it is gone or unreadable. */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Local TCP ports of `pids`' sockets connected to port `remotePort`. */
function clientPorts(pids: number[], remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = Number.parseInt(f[1]!.split(':')[1]!, 16);
      const remote = Number.parseInt(f[2]!.split(':')[1]!, 16);
      if (remote === remotePort && inodes.has(f[9]!)) ports.add(local);
    }
  }
  return ports;
}

/** Postgres backend pids serving connections opened by `pids`. */
export async function postgresBackends(postgresUrl: string, pids: number[]): Promise<number[]> {
  const port = Number(new URL(postgresUrl).port || 5432);
  const ports = clientPorts(pids, port);
  if (ports.size === 0) return [];
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const r = await client.query<{ pid: number; client_port: number | null }>('SELECT pid, client_port FROM pg_stat_activity WHERE client_port IS NOT NULL');
    return r.rows.filter((row) => row.client_port !== null && ports.has(row.client_port)).map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** Processes of an engine by role (`sidecar`, `app`, `server`, `postgres` …). */
export type ProcessRoles = Record<string, number[]>;

/** CPU milliseconds of each role now. */
export function sample(roles: ProcessRoles): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, pids] of Object.entries(roles)) out[role] = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  return out;
}
