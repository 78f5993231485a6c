/**
 * Runs every app of a run file, each as a child `weft run` (its sidecar and its app), in its own
 * process group. Their lines are re-prefixed in one colour per app on the console and split into
 * per-app log files, following `appLogDestination`/`daprdLogDestination` (Dapr's defaults: app lines
 * to both, sidecar lines to the file only) (`<appDirPath>/.dapr/logs/<appID>_{app|daprd}_<yyyyMMddHHmmss>.log`, as Dapr names
 * them). Every signal is forwarded once to every child; children also stop by themselves if this
 * process disappears (`WEFT_PARENT_PID`), so nothing is orphaned.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { LogDestination, RunFile, RunFileApp } from './run-file.js';

/** Options of {@link superviseRunFile}. */
export interface SupervisorOptions {
  /** `[node, weft.js]`: how to start a child `weft run`. */
  weft: readonly string[];
  out: Writable;
  color: boolean;
  env: NodeJS.ProcessEnv;
  /**
   * What happens to the other apps when one fails (its sidecar cannot start, or it exits non-zero):
   * `keep` lets them run on (as Dapr's multi-app run does), `stop-all` stops them. @default 'keep'
   */
  onAppFailure?: 'keep' | 'stop-all';
}

/** How far each app got, for the status table and the failure report. */
interface AppState {
  appId: string;
  status: 'starting' | 'running' | 'exited';
  code?: number;
  httpPort?: string;
  grpcPort?: string;
  /** The last lines the app and its sidecar printed (both, wherever their destination). */
  lastLines: string[];
  appLogPath: string;
  daprdLogPath: string;
}

const TAIL = 12;
/** Lines that say why a sidecar or app stopped. */
const CAUSE = /(failed to start: .*|invalid resources: .*|a component could not start: .*|cannot start .*|app exited with code \d+.*)$/;

/** The table `weft run -f` prints whenever an app's state changes. */
export function statusTable(states: readonly AppState[]): string {
  const rows = [['APP ID', 'STATUS', 'HTTP PORT', 'GRPC PORT']];
  for (const s of states) {
    const status = s.status === 'exited' ? `exited (${s.code ?? '?'})` : s.status;
    rows.push([s.appId, status, s.httpPort ?? '', s.grpcPort ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Why an app stopped, from its last lines. */
export function failureCause(lines: readonly string[], code: number): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = CAUSE.exec(lines[i] ?? '');
    if (match?.[1]) return match[1];
  }
  return `exited with code ${code}`;
}

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];

function timestamp(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** The `weft run` arguments for one app. */
export function childArgs(app: RunFileApp): string[] {
  const args = ['run', '--app-id', app.appId];
  const flag = (name: string, value: string | number | undefined) => {
    if (value !== undefined) args.push(`--${name}`, String(value));
  };
  flag('app-port', app.appPort);
  flag('app-protocol', app.appProtocol);
  flag('app-channel-address', app.appChannelAddress);
  for (const p of app.resourcesPaths) flag('resources-path', p);
  flag('config', app.configFilePath);
  flag('dapr-http-port', app.daprHTTPPort ?? 0);
  flag('dapr-grpc-port', app.daprGRPCPort ?? 0);
  flag('dapr-internal-grpc-port', app.daprInternalGRPCPort);
  flag('metrics-port', app.metricsPort ?? 0);
  flag('max-body-size', app.maxBodySize);
  flag('log-level', app.logLevel);
  if (app.enableAppHealthCheck) args.push('--enable-app-health-check');
  flag('app-health-check-path', app.appHealthCheckPath);
  flag('app-health-probe-interval', app.appHealthProbeInterval);
  flag('app-health-probe-timeout', app.appHealthProbeTimeout);
  flag('app-health-threshold', app.appHealthThreshold);
  if (app.enableApiLogging !== undefined) args.push(`--enable-api-logging=${String(app.enableApiLogging)}`);
  flag('dapr-listen-addresses', app.apiListenAddresses);
  if (app.enableMtls !== undefined) args.push(`--enable-mtls=${String(app.enableMtls)}`);
  flag('tls-cert-file', app.tlsCertFile);
  flag('tls-key-file', app.tlsKeyFile);
  flag('tls-ca-file', app.tlsCaFile);
  flag('data-dir', path.join(app.appDirPath, '.weft'));
  if (app.command.length > 0) args.push('--', ...app.command);
  return args;
}

const LINE = /^(app {2}|weft )(\S+) \| ?(.*)$/;

interface Sinks {
  out: Writable;
  appLog: Writable;
  daprdLog: Writable;
  app: LogDestination;
  daprd: LogDestination;
}

function route(input: Readable, sinks: Sinks, tag: (label: string) => string, onLine: (isApp: boolean, text: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const match = LINE.exec(line);
      const isApp = match?.[1] === 'app  ';
      const text = match ? (match[3] ?? '') : line;
      onLine(isApp, text);
      const where = isApp ? sinks.app : sinks.daprd;
      if (where !== 'console') (isApp ? sinks.appLog : sinks.daprdLog).write(`${text}\n`);
      if (where !== 'file') sinks.out.write(`${tag(match ? `${(match[1] ?? '').trim()} ${match[2] ?? ''}` : 'weft')} ${text}\n`);
    });
    lines.on('close', () => resolve());
  });
}

/** Starts every app and resolves with an exit code once all of them have stopped. */
export async function superviseRunFile(runFile: RunFile, options: SupervisorOptions): Promise<number> {
  const [command, ...prefixArgs] = options.weft as [string, ...string[]];
  /** Set once a stop was asked for (a signal, or stop-all): exits after that are not failures. */
  let stopping = false;
  /** The exit code of the first app that failed, which is the run's exit code. */
  let firstFailure: number | undefined;
  const stamp = timestamp();
  const width = Math.max(...runFile.apps.map((a) => a.appId.length)) + 5;
  const children: ChildProcess[] = [];
  const done: Promise<number>[] = [];
  const states: AppState[] = [];
  let shownTable = '';
  const showTable = () => {
    const table = statusTable(states);
    if (table === shownTable || states.some((s) => s.status === 'starting')) return;
    shownTable = table;
    options.out.write(`${table}\n`);
  };
  for (const [index, app] of runFile.apps.entries()) {
    const logDir = path.join(app.appDirPath, '.dapr', 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const appLogPath = path.join(logDir, `${app.appId}_app_${stamp}.log`);
    const daprdLogPath = path.join(logDir, `${app.appId}_daprd_${stamp}.log`);
    const appLog = fs.createWriteStream(appLogPath, { flags: 'a' });
    const daprdLog = fs.createWriteStream(daprdLogPath, { flags: 'a' });
    const code = COLORS[index % COLORS.length] ?? 36;
    const tag = (label: string) => (options.color ? `\u001b[${code}m${label.padEnd(width)} |\u001b[0m` : `${label.padEnd(width)} |`);
    const { FORCE_COLOR: _ignored, ...baseEnv } = options.env;
    const child = spawn(command, [...prefixArgs, ...childArgs(app)], {
      cwd: app.appDirPath,
      env: {
        ...baseEnv,
        ...app.env,
        NO_COLOR: '1',
        WEFT_PARENT_PID: String(process.pid),
        WEFT_RUN_FILE: runFile.file,
        WEFT_APP_LOG: appLogPath,
        WEFT_DAPRD_LOG: daprdLogPath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own group: a terminal Ctrl-C reaches only us, and we stop each app exactly once.
      detached: true,
    });
    children.push(child);
    const state: AppState = { appId: app.appId, status: 'starting', lastLines: [], appLogPath, daprdLogPath };
    states.push(state);
    const onLine = (isApp: boolean, text: string) => {
      state.lastLines.push(`${isApp ? 'app ' : 'weft'} | ${text}`);
      if (state.lastLines.length > TAIL) state.lastLines.shift();
      if (isApp) return;
      const ports = /HTTP API\s+http:\/\/\S+:(\d+)\s+gRPC API\s+\S+:(\d+)/.exec(text);
      if (ports) {
        state.httpPort = ports[1];
        state.grpcPort = ports[2];
        state.status = 'running';
        showTable();
      }
    };
    const sinks: Sinks = { out: options.out, appLog, daprdLog, app: app.appLogDestination, daprd: app.daprdLogDestination };
    const piped = Promise.all([route(child.stdout as Readable, sinks, tag, onLine), route(child.stderr as Readable, sinks, tag, onLine)]);
    options.out.write(`${tag(`weft ${app.appId}`)} starting; sidecar log: ${daprdLogPath}\n`);
    done.push(
      new Promise<number>((resolve) => {
        child.once('error', (err) => {
          options.out.write(`${tag(`weft ${app.appId}`)} cannot start: ${err.message}\n`);
          resolve(1);
        });
        child.once('exit', (exitCode) => {
          void piped.then(() => {
            appLog.end();
            daprdLog.end();
            const code = exitCode ?? 1;
            state.status = 'exited';
            state.code = code;
            if (code !== 0 && !stopping) {
              firstFailure ??= code;
              const report = [
                `${tag(`weft ${app.appId}`)} FAILED: ${failureCause(state.lastLines, code)}`,
                `${tag(`weft ${app.appId}`)} last lines (sidecar log ${daprdLogPath}, app log ${appLogPath}):`,
                ...state.lastLines.map((l) => `${tag(`weft ${app.appId}`)}   ${l}`),
              ];
              options.out.write(`${report.join('\n')}\n`);
              if (options.onAppFailure === 'stop-all') {
                options.out.write(`${tag(`weft ${app.appId}`)} stopping the other apps (--on-app-failure stop-all)\n`);
                stopping = true;
                forward('SIGTERM');
              }
            }
            showTable();
            resolve(code);
          });
        });
      }),
    );
  }
  function forward(signal: NodeJS.Signals): void {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, signal);
        } catch {
          // Already gone.
        }
      }
    }
  }
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true;
    forward(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const codes = await Promise.all(done);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return firstFailure ?? codes.find((c) => c !== 0) ?? 0;
}
