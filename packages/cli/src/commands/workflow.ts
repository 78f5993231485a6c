/**
 * `weft workflow …`: manage an app's workflow instances, as `dapr workflow` does. By default it finds
 * the running app's sidecar by `--app-id` in the local registry and uses its workflow API, so it sees
 * exactly the store the app runs on; an unknown app id is an error listing the running apps. To work
 * on a store with no sidecar running, name the store explicitly: `--data-dir <dir>` (the embedded
 * SQLite file) or `-c <connection string>` (Postgres, URL or key=value).
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { SqliteWorkflowBackend, openPostgresWorkflowBackend, WORKFLOW_STATUSES, WorkflowEngine, historyEventJson, instanceJson, parseDuration, parseDurationMs, silentLogger } from '@weft/runtime';
import { ADMIN_PREFIX } from '@weft/runtime';
import type { AdminRerunRequest, AdminRerunResponse, InstanceFilter, RerunRequest, WorkflowBackend, WorkflowStatus } from '@weft/runtime';
import { findRunningApp, sidecarHeaders } from '../find-app.js';

interface StoreFlags {
  appId: string;
  dataDir?: string;
  connectionString?: string;
}

type Json = Record<string, unknown>;

/** What the commands need, from a sidecar's API or straight from a store. */
interface WorkflowOps {
  list(filter: InstanceFilter, limit: number, stuckAfterMs: number): Promise<Json[]>;
  get(id: string): Promise<Json | undefined>;
  history(id: string): Promise<Json[] | undefined>;
  start(name: string, input: string | null, instanceId?: string): Promise<string>;
  raiseEvent(id: string, event: string, input: string | null): Promise<boolean>;
  setSuspended(id: string, suspended: boolean): Promise<boolean>;
  terminate(id: string, output: string | null): Promise<boolean>;
  purge(id: string): Promise<number | undefined>;
  purgeWhere(filter: InstanceFilter): Promise<number>;
  /** `RerunWorkflowFromEvent`; resolves with the new instance's id. */
  rerun(request: RerunRequest): Promise<string>;
  close(): Promise<void>;
}

/** Operations straight on a store (no sidecar needed). */
function storeOps(engine: WorkflowEngine): WorkflowOps {
  return {
    async list(filter, limit, stuckAfterMs) {
      const page = await engine.list(filter, limit);
      const now = new Date();
      const idle = await engine.backend.idleWithPendingWork(new Date(now.getTime() - stuckAfterMs), now);
      const stuck = new Map(idle.map((i) => [i.instanceId, i.idleSince]));
      // The same extension fields as the HTTP listing.
      return page.instances.map((i) => {
        const since = stuck.get(i.instanceId);
        return since ? { ...instanceJson(i), stuck: true, stuckSince: since.toISOString() } : instanceJson(i);
      });
    },
    get: async (id) => {
      const i = await engine.get(id);
      return i ? instanceJson(i) : undefined;
    },
    history: async (id) => ((await engine.get(id)) ? (await engine.history(id)).map(historyEventJson) : undefined),
    start: (name, input, instanceId) => engine.start({ name, input, ...(instanceId ? { instanceId } : {}) }),
    raiseEvent: (id, event, input) => engine.raiseEvent(id, event, input),
    setSuspended: (id, suspended) => engine.setSuspended(id, suspended),
    terminate: (id, output) => engine.terminate(id, output),
    purge: (id) => engine.purge(id),
    purgeWhere: (filter) => engine.purgeWhere(filter),
    rerun: (request) => engine.rerun(request),
    close: () => engine.close(),
  };
}

/** Operations through a running sidecar's workflow API (`/v1.0/workflows/dapr/...`). */
function sidecarOps(appId: string, httpPort: number): WorkflowOps {
  const base = `http://127.0.0.1:${httpPort}/v1.0/workflows/dapr`;
  async function call(method: string, url: string, body?: string): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(url, { method, headers: { ...sidecarHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw new Error(`the sidecar of app "${appId}" (port ${httpPort}) does not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }
  const notFound = (r: { json: unknown }) => /not.?found|no such instance/i.test(JSON.stringify(r.json ?? ''));
  async function ok(method: string, url: string, body?: string): Promise<boolean> {
    const r = await call(method, url, body);
    if (r.status < 300) return true;
    if (notFound(r)) return false;
    throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
  }
  const id = encodeURIComponent;
  const filterQuery = (filter: InstanceFilter): URLSearchParams => {
    const q = new URLSearchParams();
    for (const s of filter.statuses ?? []) q.append('status', s);
    if (filter.name) q.set('name', filter.name);
    if (filter.instanceIdPrefix) q.set('idPrefix', filter.instanceIdPrefix);
    if (filter.createdFrom) q.set('createdFrom', filter.createdFrom.toISOString());
    if (filter.createdTo) q.set('createdTo', filter.createdTo.toISOString());
    return q;
  };
  return {
    async list(filter, limit) {
      const q = filterQuery(filter);
      q.set('pageSize', String(Math.min(Math.max(limit, 1), 1000)));
      const r = await call('GET', `${base}?${q.toString()}`);
      if (r.status !== 200) throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
      return ((r.json as { instances?: Json[] }).instances ?? []).slice(0, limit);
    },
    async get(instance) {
      const r = await call('GET', `${base}/${id(instance)}`);
      if (r.status === 200) return r.json as Json;
      if (notFound(r) || r.status === 404) return undefined;
      throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
    },
    async history(instance) {
      const r = await call('GET', `${base}/${id(instance)}/history`);
      if (r.status === 200) return (r.json as { history: Json[] }).history;
      if (notFound(r) || r.status === 404) return undefined;
      throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
    },
    async start(name, input, instanceId) {
      const r = await call('POST', `${base}/${id(name)}/start${instanceId ? `?instanceID=${id(instanceId)}` : ''}`, input ?? undefined);
      if (r.status !== 202) throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
      return String((r.json as { instanceID: string }).instanceID);
    },
    raiseEvent: (instance, event, input) => ok('POST', `${base}/${id(instance)}/raiseEvent/${id(event)}`, input ?? undefined),
    setSuspended: (instance, suspended) => ok('POST', `${base}/${id(instance)}/${suspended ? 'pause' : 'resume'}`),
    async terminate(instance, output) {
      if (output !== null) throw new Error('--output is not supported through the sidecar API (Dapr\'s terminate takes none); use --data-dir or -c to work on the store');
      return ok('POST', `${base}/${id(instance)}/terminate`);
    },
    purge: async (instance) => ((await ok('POST', `${base}/${id(instance)}/purge`)) ? 1 : undefined),
    async purgeWhere(filter) {
      const r = await call('DELETE', `${base}?${filterQuery(filter).toString()}`);
      if (r.status !== 200) throw new Error(`the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
      return Number((r.json as { deletedInstanceCount: number }).deletedInstanceCount);
    },
    async rerun(request) {
      // Dapr serves the rerun on gRPC only; Weft's admin API carries the same request over HTTP.
      const body: AdminRerunRequest = {
        eventId: request.eventId,
        ...(request.newInstanceId ? { newInstanceId: request.newInstanceId } : {}),
        ...(request.overwriteInput ? { overwriteInput: true, ...(request.input !== null && request.input !== undefined ? { input: request.input } : {}) } : {}),
      };
      const url = `http://127.0.0.1:${httpPort}${ADMIN_PREFIX}/workflows/${id(request.sourceInstanceId)}/rerun`;
      const r = await call('POST', url, JSON.stringify(body));
      if (r.status === 202) return String((r.json as AdminRerunResponse).newInstanceID);
      const message = (r.json as { message?: unknown } | undefined)?.message;
      throw new Error(typeof message === 'string' ? message : `the sidecar of app "${appId}" answered ${r.status}: ${JSON.stringify(r.json)}`);
    },
    close: async () => undefined,
  };
}

/** The running app's sidecar, or the store named by `--data-dir` / `-c`. */
async function openOps(command: Command): Promise<WorkflowOps> {
  const flags = command.optsWithGlobals<StoreFlags>();
  if (flags.connectionString && flags.dataDir) throw new Error('give --data-dir or --connection-string, not both');
  if (flags.connectionString || flags.dataDir) {
    const backend: WorkflowBackend = flags.connectionString
      ? await openPostgresWorkflowBackend(flags.connectionString, flags.appId)
      : new SqliteWorkflowBackend(path.join(path.resolve(flags.dataDir ?? '.weft'), 'workflows.sqlite'), flags.appId);
    return storeOps(new WorkflowEngine({ backend, logger: silentLogger() }));
  }
  const entry = await findRunningApp(
    flags.appId,
    process.env,
    'To work on a stopped app\'s store, name it: --data-dir <dir> (embedded SQLite) or -c <connection string> (Postgres)',
  );
  return sidecarOps(flags.appId, entry.httpPort);
}

async function withOps(command: Command, fn: (ops: WorkflowOps) => Promise<void>): Promise<void> {
  const ops = await openOps(command);
  try {
    await fn(ops);
  } finally {
    await ops.close();
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function age(date: Date): string {
  const s = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
}

function instanceRows(instances: Json[], wide: boolean): string {
  const head = ['INSTANCE ID', 'WORKFLOW', 'STATUS', 'AGE', 'CREATED', ...(wide ? ['LAST UPDATE', 'CUSTOM STATUS'] : []), 'STUCK'];
  const rows = instances.map((i) => {
    const created = new Date(String(i['createdAt']));
    const since = typeof i['stuckSince'] === 'string' ? new Date(i['stuckSince']) : undefined;
    const custom = (i['properties'] as Record<string, string> | undefined)?.['dapr.workflow.custom_status'] ?? '';
    const base = [String(i['instanceID']), String(i['workflowName']), String(i['runtimeStatus']), age(created), created.toISOString()];
    return [...base, ...(wide ? [String(i['lastUpdatedAt']), custom] : []), since ? `for ${age(since)}` : ''];
  });
  return table([head, ...rows]);
}

/** A timestamp or a duration before now (`1h`, `30m`). */
function pointInTime(value: string): Date {
  const ms = parseDurationMs(value);
  if (ms !== undefined) return new Date(Date.now() - ms);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`expected a duration (e.g. 24h) or an RFC 3339 timestamp, got "${value}"`);
  return date;
}

function statusOption(): Option {
  return new Option('-s, --filter-status <status>', 'only instances with this status').choices([...WORKFLOW_STATUSES]);
}

/** The `workflow` command group. */
export function workflowCommand(): Command {
  const wf = new Command('workflow')
    .alias('wf')
    .description("manage an app's workflow instances: through its running sidecar, or on its store with --data-dir / -c")
    .requiredOption('-a, --app-id <id>', 'the app whose workflows to manage (its running sidecar is found in the local registry)')
    .option('--data-dir <dir>', 'work on the embedded store in this data directory (e.g. .weft), without a sidecar')
    .option('-c, --connection-string <dsn>', 'work on the Postgres store (actor state store; URL or key=value), without a sidecar');

  wf.command('list')
    .alias('ls')
    .description('list instances, newest first')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'wide', 'json', 'yaml']).default('short'))
    .addOption(statusOption())
    .option('-w, --filter-name <name>', 'only instances of this workflow')
    .option('-m, --filter-max-age <age>', 'only instances created after this duration ago or timestamp')
    .option('--prefix <prefix>', 'only instance ids starting with this')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--stuck-after <duration>', 'with --data-dir/-c: flag instances with work waiting and no progress for this long (a sidecar applies its own)', '5m')
    .action(async (opts: { output: string; filterStatus?: WorkflowStatus; filterName?: string; filterMaxAge?: string; prefix?: string; limit: number; stuckAfter: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        const filter: InstanceFilter = {};
        if (opts.filterStatus) filter.statuses = [opts.filterStatus];
        if (opts.filterName) filter.name = opts.filterName;
        if (opts.prefix) filter.instanceIdPrefix = opts.prefix;
        if (opts.filterMaxAge) filter.createdFrom = pointInTime(opts.filterMaxAge);
        const stuckAfterMs = parseDuration('--stuck-after', opts.stuckAfter);
        const entries = await ops.list(filter, opts.limit, stuckAfterMs);
        if (opts.output === 'json') console.log(JSON.stringify(entries, null, 2));
        else if (opts.output === 'yaml') process.stdout.write((await import('yaml')).stringify(entries));
        else console.log(instanceRows(entries, opts.output === 'wide'));
      }),
    );

  wf.command('get <instanceID>')
    .description('show one instance as JSON (as the HTTP API does)')
    .action(async (id: string, _: unknown, cmd: Command) =>
      withOps(cmd, async (ops) => {
        const instance = await ops.get(id);
        if (!instance) throw new Error(`no workflow instance ${id}`);
        console.log(JSON.stringify(instance, null, 2));
      }),
    );

  wf.command('history <instanceID>')
    .description('show the history of an instance')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json']).default('short'))
    .action(async (id: string, opts: { output: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        const events = await ops.history(id);
        if (!events) throw new Error(`no workflow instance ${id}`);
        if (opts.output === 'json') console.log(JSON.stringify(events, null, 2));
        else console.log(table([['#', 'TYPE', 'EVENT ID', 'TIME'], ...events.map((e, i) => [String(i + 1), String(e['type']), String(e['eventId']), String(e['timestamp'])])]));
      }),
    );

  wf.command('run <workflowName>')
    .description('start an instance (a worker runs it when the app is up)')
    .option('-i, --instance-id <id>', 'instance id (default: a random UUID)')
    .option('-x, --input <json>', 'input as JSON')
    .action(async (name: string, opts: { instanceId?: string; input?: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        if (opts.input !== undefined) JSON.parse(opts.input);
        console.log(await ops.start(name, opts.input ?? null, opts.instanceId));
      }),
    );

  wf.command('raise-event <instanceAndEvent>')
    .description('raise an event: <instanceID>/<eventName>')
    .option('-x, --input <json>', 'event payload as JSON')
    .action(async (target: string, opts: { input?: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        const slash = target.lastIndexOf('/');
        if (slash <= 0 || slash === target.length - 1) throw new Error('expected <instanceID>/<eventName>');
        if (!(await ops.raiseEvent(target.slice(0, slash), target.slice(slash + 1), opts.input ?? null))) throw new Error(`no workflow instance ${target.slice(0, slash)}`);
      }),
    );

  for (const [name, suspended] of [['suspend', true], ['resume', false]] as const) {
    wf.command(`${name} <instanceID>`)
      .description(`${name} an instance`)
      .option('-r, --reason <reason>', 'reason (recorded in logs only)')
      .action(async (id: string, _: unknown, cmd: Command) =>
        withOps(cmd, async (ops) => {
          if (!(await ops.setSuspended(id, suspended))) throw new Error(`no workflow instance ${id}`);
        }),
      );
  }

  wf.command('terminate <instanceID>')
    .description('terminate an instance and its children')
    .option('-o, --output <json>', 'output payload as JSON')
    .action(async (id: string, opts: { output?: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        if (!(await ops.terminate(id, opts.output ?? null))) throw new Error(`no workflow instance ${id}`);
      }),
    );

  wf.command('rerun <instanceID>')
    .description('rerun a finished instance from one of its steps (an activity, timer or child workflow) as a new instance')
    .option('-e, --event-id <n>', 'the event id of the step to rerun from (see `weft workflow history`)', '0')
    .option('--new-instance-id <id>', 'id of the new instance (default: a random UUID)')
    .option('-x, --input <json>', "the step's new input as JSON (default: its recorded input)")
    .action(async (id: string, opts: { eventId: string; newInstanceId?: string; input?: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        const eventId = Number(opts.eventId);
        if (!/^\d+$/.test(opts.eventId) || eventId > 0xffffffff) throw new Error(`--event-id expects a non-negative integer, got "${opts.eventId}"`);
        if (opts.input !== undefined) JSON.parse(opts.input);
        const newId = await ops.rerun({
          sourceInstanceId: id,
          eventId,
          ...(opts.newInstanceId !== undefined ? { newInstanceId: opts.newInstanceId } : {}),
          ...(opts.input !== undefined ? { overwriteInput: true, input: opts.input } : {}),
        });
        console.log(`Rerunning workflow instance: ${newId}`);
      }),
    );

  wf.command('purge [instanceID]')
    .description('delete finished instances')
    .option('--all', 'every finished instance')
    .option('--all-older-than <age>', 'finished instances created before this duration ago or timestamp')
    .action(async (id: string | undefined, opts: { all?: boolean; allOlderThan?: string }, cmd: Command) =>
      withOps(cmd, async (ops) => {
        if (id) console.log(`purged ${(await ops.purge(id)) ?? 0} instance(s)`);
        else if (opts.all || opts.allOlderThan) {
          const filter: InstanceFilter = opts.allOlderThan ? { createdTo: pointInTime(opts.allOlderThan) } : {};
          console.log(`purged ${await ops.purgeWhere(filter)} instance(s)`);
        } else throw new Error('give an instance id, --all or --all-older-than');
      }),
    );
  return wf;
}
