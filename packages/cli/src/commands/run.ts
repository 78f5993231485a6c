/**
 * `weft run [flags] [-- command...]`: the sidecar in this process and the app as a child in its own
 * process group, with DAPR_HTTP_PORT, DAPR_GRPC_PORT, APP_ID and APP_PORT set. Ctrl-C or the app's exit
 * stops both (the whole app process group, so no orphans) and the app's exit code is returned.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { RecentLogs, Sidecar, createLogger, pidAlive } from '@weft/runtime';
import { startFailure } from '../start-failure.js';
import { releaseYoungGeneration } from '../startup-heap.js';
import { loadRunFile } from '../runfile/run-file.js';
import { superviseRunFile } from '../runfile/supervisor.js';
import { addSidecarFlags, ignoredFlagWarnings, sidecarOptionsFromFlags } from '../sidecar-flags.js';
import type { SidecarFlagValues } from '../sidecar-flags.js';
import { DASHBOARD_PORT, startDashboard } from './dashboard.js';
import type { DashboardFlags } from './dashboard.js';
import { linePrefix, pipePrefixed, prefixedWritable, useColor } from '../output.js';

/** Exit code for a child that died of a signal, as shells report it. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? (os.constants.signals[signal] ?? 1) : 1;
  return 128 + number;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Runs the sidecar and, if given, the app command; resolves with the exit code. */
export async function runApp(values: SidecarFlagValues, command: readonly string[]): Promise<number> {
  const color = useColor(process.stdout, process.env);
  const appId = values.appId ?? path.basename(process.cwd()).replace(/[^A-Za-z0-9-]/g, '-').toLowerCase();
  const options = sidecarOptionsFromFlags(values, process.env, appId);
  const sidecarOut = prefixedWritable(process.stdout, linePrefix(`weft ${options.appId}`, 0, color));
  const recentLogs = new RecentLogs();
  const logger = createLogger({ onLine: (line) => recentLogs.addLine(line), level: options.logLevel, json: options.logAsJson, appId: options.appId, destination: sidecarOut });
  for (const warning of ignoredFlagWarnings(values)) logger.warn(warning);

  let requestStop: (reason: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  let sidecar: Sidecar;
  try {
    sidecar = await Sidecar.start(options, { logger, recentLogs, fresh: values.fresh, onShutdownRequested: () => requestStop('shutdown API') });
  } catch (err) {
    logger.error(startFailure(err, options));
    return 1;
  } finally {
    releaseYoungGeneration();
  }
  for (const line of sidecar.banner()) logger.info(line);
  sidecar.metadata.set('cliPID', String(process.pid));
  const runInfo = runFileInfo(process.env);
  for (const [key, value] of Object.entries(runInfo)) sidecar.metadata.set(key, value);
  await sidecar.updateRegistration({ cliPid: String(process.pid), ...runInfo });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    requestStop(signal);
    if (signals > 1 && child) killGroup(child, 'SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Started by `weft run -f`: stop with the supervisor even if it was killed outright.
  const parentPid = Number(process.env['WEFT_PARENT_PID']);
  const parentWatch = parentPid
    ? setInterval(() => {
        if (!pidAlive(parentPid)) requestStop('supervisor exited');
      }, 500).unref()
    : undefined;

  let child: ChildProcess | undefined;
  let appExit: Promise<number> | undefined;
  if (command.length > 0) {
    const [file, ...args] = command as [string, ...string[]];
    child = spawn(file, args, {
      env: {
        ...process.env,
        APP_ID: options.appId,
        DAPR_HTTP_PORT: String(sidecar.httpPort),
        DAPR_GRPC_PORT: String(sidecar.grpcPort),
        APP_CHANNEL_ADDRESS: options.appChannelAddress,
        APP_PROTOCOL: options.appProtocol,
        ...(options.appPort ? { APP_PORT: String(options.appPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stopping it also stops anything it started.
      detached: true,
    });
    const started = child;
    const killOnExit = () => killGroup(started, 'SIGKILL');
    process.once('exit', killOnExit);
    const appPrefix = linePrefix(`app  ${options.appId}`, 1, color);
    const piped = Promise.all([
      pipePrefixed(started.stdout as NodeJS.ReadableStream as never, process.stdout, appPrefix),
      pipePrefixed(started.stderr as NodeJS.ReadableStream as never, process.stderr, appPrefix),
    ]);
    appExit = new Promise<number>((resolve) => {
      started.once('error', (err) => {
        logger.error(`cannot start "${command.join(' ')}": ${err.message}`);
        resolve(127);
      });
      started.once('exit', (code, signal) => {
        void piped.then(() => resolve(exitCodeOf(code, signal)));
      });
    });
    sidecar.metadata.set('appPID', String(started.pid ?? ''));
    sidecar.metadata.set('appCommand', command.join(' '));
    await sidecar.updateRegistration({ appPid: String(started.pid ?? ''), command: command.join(' ') });
    logger.info(`started app: ${command.join(' ')} (pid ${started.pid ?? '?'})`);
  }

  const first = await Promise.race([
    stopRequested.then((reason) => ({ kind: 'stop' as const, reason })),
    ...(appExit ? [appExit.then((code) => ({ kind: 'app' as const, code }))] : []),
  ]);
  let exitCode = 0;
  if (first.kind === 'app') {
    exitCode = first.code;
    logger.info(`app exited with code ${exitCode}; stopping the sidecar`);
    if (child) killGroup(child, 'SIGTERM');
  } else {
    logger.info(`stopping (${first.reason})`);
    if (child && appExit) {
      killGroup(child, first.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
      const grace = setTimeout(() => child && killGroup(child, 'SIGKILL'), options.gracefulShutdownSeconds * 1000);
      exitCode = await appExit;
      clearTimeout(grace);
      killGroup(child, 'SIGKILL');
    }
  }
  clearInterval(parentWatch);
  await sidecar.stop();
  logger.info('stopped');
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return exitCode;
}

/** What a supervisor (`weft run -f`) told this run about itself, as Dapr's metadata keys. */
function runFileInfo(env: NodeJS.ProcessEnv): Record<string, string> {
  const info: Record<string, string> = {};
  if (env['WEFT_RUN_FILE']) {
    info['runTemplatePath'] = env['WEFT_RUN_FILE'];
    info['runTemplateName'] = path.basename(env['WEFT_RUN_FILE']);
  }
  if (env['WEFT_PARENT_PID']) info['runnerPid'] = env['WEFT_PARENT_PID'];
  if (env['WEFT_APP_LOG']) info['appLogPath'] = env['WEFT_APP_LOG'];
  if (env['WEFT_DAPRD_LOG']) info['daprdLogPath'] = env['WEFT_DAPRD_LOG'];
  return info;
}

/** The `run` command. */
export function runCommand(): Command {
  const command = new Command('run')
    .description('run an app beside a Weft sidecar (embedded stores by default)')
    .argument('[command...]', 'the app command, after --')
    .usage('[flags] [-- command...] | -f <run file or directory>')
    .option('-f, --run-file <path>', 'a multi-app run file (weft.yaml or dapr.yaml), or a directory holding one')
    .option('--dashboard', `also serve the Weft dashboard (http://127.0.0.1:${DASHBOARD_PORT}; a run file's "dashboard: true" does the same)`)
    .option('--dashboard-port <port>', 'port of the dashboard', (v) => Number(v))
    .addOption(
      new Option('--on-app-failure <mode>', 'with -f: when one app fails, keep the others running (as Dapr) or stop them all').choices(['keep', 'stop-all']).default('keep'),
    );
  addSidecarFlags(command, { httpPort: 0, grpcPort: 0, metricsPort: 0 });
  command.action(
    async (
      appCommand: string[],
      values: SidecarFlagValues & { runFile?: string; dashboard?: boolean; dashboardPort?: number; onAppFailure?: 'keep' | 'stop-all' },
    ) => {
      const runFile = values.runFile ? loadRunFile(values.runFile) : undefined;
      for (const warning of runFile?.warnings ?? []) process.stderr.write(`weft: warning: ${warning}\n`);
      const wanted = values.dashboard || runFile?.dashboard !== undefined;
      const flags: DashboardFlags = {
        port: values.dashboardPort ?? runFile?.dashboard?.port ?? DASHBOARD_PORT,
        host: runFile?.dashboard?.host ?? '127.0.0.1',
        sidecar: [],
        discover: true,
      };
      // The dashboard finds the apps' sidecars through the local registry, as `weft dashboard` does.
      const dashboard = wanted ? await startDashboard(flags, process.env, process.stdout) : undefined;
      try {
        if (runFile) {
          // The supervisor starts no sidecar in this process.
          releaseYoungGeneration();
          process.exitCode = await superviseRunFile(runFile, {
            weft: [process.execPath, ...process.execArgv, process.argv[1] ?? 'weft'],
            out: process.stdout,
            color: useColor(process.stdout, process.env),
            env: process.env,
            onAppFailure: values.onAppFailure ?? 'keep',
          });
          return;
        }
        process.exitCode = await runApp(values, appCommand);
      } finally {
        await dashboard?.close();
      }
    },
  );
  return command;
}
