/**
 * `weft workflow …`: manage an app's workflow instances straight from its store (the embedded SQLite
 * file in `--data-dir`, or Postgres with `--connection-string`), so it works whether the app runs or
 * not. Flags follow `dapr workflow`. A running sidecar picks up changes within its poll interval.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { SqliteWorkflowBackend, openPostgresWorkflowBackend, WORKFLOW_STATUSES, WorkflowEngine, historyEventJson, instanceJson, parseDurationMs, silentLogger } from '@weft/runtime';
import type { InstanceFilter, InstanceRecord, WorkflowBackend, WorkflowStatus } from '@weft/runtime';

interface StoreFlags {
  appId: string;
  dataDir: string;
  connectionString?: string;
}

async function openEngine(flags: StoreFlags): Promise<WorkflowEngine> {
  const backend: WorkflowBackend = flags.connectionString
    ? await openPostgresWorkflowBackend(flags.connectionString, flags.appId)
    : new SqliteWorkflowBackend(path.join(path.resolve(flags.dataDir), 'workflows.sqlite'), flags.appId);
  return new WorkflowEngine({ backend, logger: silentLogger() });
}

async function withEngine(command: Command, fn: (engine: WorkflowEngine) => Promise<void>): Promise<void> {
  const engine = await openEngine(command.optsWithGlobals<StoreFlags>());
  try {
    await fn(engine);
  } finally {
    await engine.close();
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

function instanceRows(instances: InstanceRecord[], wide: boolean, stuck: Map<string, Date>): string {
  const head = ['INSTANCE ID', 'WORKFLOW', 'STATUS', 'AGE', 'CREATED', ...(wide ? ['LAST UPDATE', 'CUSTOM STATUS'] : []), 'STUCK'];
  const rows = instances.map((i) => {
    const since = stuck.get(i.instanceId);
    const base = [i.instanceId, i.name, i.status, age(i.createdAt), i.createdAt.toISOString()];
    return [...base, ...(wide ? [i.lastUpdatedAt.toISOString(), i.customStatus ?? ''] : []), since ? `for ${age(since)}` : ''];
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
    .description("manage an app's workflow instances (running or stopped)")
    .requiredOption('-a, --app-id <id>', 'the app whose workflows to manage')
    .option('--data-dir <dir>', 'the data directory of the embedded store', '.weft')
    .option('-c, --connection-string <url>', 'the Postgres database of the workflows (actor state store)');

  wf.command('list')
    .alias('ls')
    .description('list instances, newest first')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'wide', 'json', 'yaml']).default('short'))
    .addOption(statusOption())
    .option('-w, --filter-name <name>', 'only instances of this workflow')
    .option('-m, --filter-max-age <age>', 'only instances created after this duration ago or timestamp')
    .option('--prefix <prefix>', 'only instance ids starting with this')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--stuck-after <duration>', 'flag instances with work waiting and no progress for this long', '5m')
    .action(async (opts: { output: string; filterStatus?: WorkflowStatus; filterName?: string; filterMaxAge?: string; prefix?: string; limit: number; stuckAfter: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        const filter: InstanceFilter = {};
        if (opts.filterStatus) filter.statuses = [opts.filterStatus];
        if (opts.filterName) filter.name = opts.filterName;
        if (opts.prefix) filter.instanceIdPrefix = opts.prefix;
        if (opts.filterMaxAge) filter.createdFrom = pointInTime(opts.filterMaxAge);
        const page = await engine.list(filter, opts.limit);
        const stuckAfterMs = parseDurationMs(opts.stuckAfter);
        if (stuckAfterMs === undefined || stuckAfterMs < 0) throw new Error(`--stuck-after expects a duration such as 5m, got "${opts.stuckAfter}"`);
        const now = new Date();
        const idle = await engine.backend.idleWithPendingWork(new Date(now.getTime() - stuckAfterMs), now);
        const stuck = new Map(idle.map((i) => [i.instanceId, i.idleSince]));
        // The same extension fields as the HTTP listing.
        const entries = page.instances.map((i) => {
          const since = stuck.get(i.instanceId);
          return since ? { ...instanceJson(i), stuck: true, stuckSince: since.toISOString() } : instanceJson(i);
        });
        if (opts.output === 'json') console.log(JSON.stringify(entries, null, 2));
        else if (opts.output === 'yaml') process.stdout.write(toYaml(entries));
        else console.log(instanceRows(page.instances, opts.output === 'wide', stuck));
      }),
    );

  wf.command('get <instanceID>')
    .description('show one instance as JSON (as the HTTP API does)')
    .action(async (id: string, _: unknown, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        const instance = await engine.get(id);
        if (!instance) throw new Error(`no workflow instance ${id}`);
        console.log(JSON.stringify(instanceJson(instance), null, 2));
      }),
    );

  wf.command('history <instanceID>')
    .description('show the history of an instance')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['short', 'json']).default('short'))
    .action(async (id: string, opts: { output: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        if (!(await engine.get(id))) throw new Error(`no workflow instance ${id}`);
        const events = (await engine.history(id)).map(historyEventJson);
        if (opts.output === 'json') console.log(JSON.stringify(events, null, 2));
        else console.log(table([['#', 'TYPE', 'EVENT ID', 'TIME'], ...events.map((e, i) => [String(i + 1), String(e['type']), String(e['eventId']), String(e['timestamp'])])]));
      }),
    );

  wf.command('run <workflowName>')
    .description('start an instance (a worker runs it when the app is up)')
    .option('-i, --instance-id <id>', 'instance id (default: a random UUID)')
    .option('-x, --input <json>', 'input as JSON')
    .action(async (name: string, opts: { instanceId?: string; input?: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        if (opts.input !== undefined) JSON.parse(opts.input);
        console.log(await engine.start({ name, input: opts.input ?? null, ...(opts.instanceId ? { instanceId: opts.instanceId } : {}) }));
      }),
    );

  wf.command('raise-event <instanceAndEvent>')
    .description('raise an event: <instanceID>/<eventName>')
    .option('-x, --input <json>', 'event payload as JSON')
    .action(async (target: string, opts: { input?: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        const slash = target.lastIndexOf('/');
        if (slash <= 0 || slash === target.length - 1) throw new Error('expected <instanceID>/<eventName>');
        if (!(await engine.raiseEvent(target.slice(0, slash), target.slice(slash + 1), opts.input ?? null))) throw new Error(`no workflow instance ${target.slice(0, slash)}`);
      }),
    );

  for (const [name, suspended] of [['suspend', true], ['resume', false]] as const) {
    wf.command(`${name} <instanceID>`)
      .description(`${name} an instance`)
      .option('-r, --reason <reason>', 'reason (recorded in logs only)')
      .action(async (id: string, _: unknown, cmd: Command) =>
        withEngine(cmd, async (engine) => {
          if (!(await engine.setSuspended(id, suspended))) throw new Error(`no workflow instance ${id}`);
        }),
      );
  }

  wf.command('terminate <instanceID>')
    .description('terminate an instance and its children')
    .option('-o, --output <json>', 'output payload as JSON')
    .action(async (id: string, opts: { output?: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        if (!(await engine.terminate(id, opts.output ?? null))) throw new Error(`no workflow instance ${id}`);
      }),
    );

  wf.command('purge [instanceID]')
    .description('delete finished instances')
    .option('--all', 'every finished instance')
    .option('--all-older-than <age>', 'finished instances created before this duration ago or timestamp')
    .action(async (id: string | undefined, opts: { all?: boolean; allOlderThan?: string }, cmd: Command) =>
      withEngine(cmd, async (engine) => {
        if (id) console.log(`purged ${(await engine.purge(id)) ?? 0} instance(s)`);
        else if (opts.all || opts.allOlderThan) {
          const filter: InstanceFilter = opts.allOlderThan ? { createdTo: pointInTime(opts.allOlderThan) } : {};
          console.log(`purged ${await engine.purgeWhere(filter)} instance(s)`);
        } else throw new Error('give an instance id, --all or --all-older-than');
      }),
    );
  return wf;
}
