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

function route(input: Readable, sinks: Sinks, tag: (label: string) => string): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const match = LINE.exec(line);
      const isApp = match?.[1] === 'app  ';
      const text = match ? (match[3] ?? '') : line;
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
  const stamp = timestamp();
  const width = Math.max(...runFile.apps.map((a) => a.appId.length)) + 5;
  const children: ChildProcess[] = [];
  const done: Promise<number>[] = [];
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
    const sinks: Sinks = { out: options.out, appLog, daprdLog, app: app.appLogDestination, daprd: app.daprdLogDestination };
    const piped = Promise.all([route(child.stdout as Readable, sinks, tag), route(child.stderr as Readable, sinks, tag)]);
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
            resolve(exitCode ?? 1);
          });
        });
      }),
    );
  }
  const forward = (signal: NodeJS.Signals) => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, signal);
        } catch {
          // Already gone.
        }
      }
    }
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const codes = await Promise.all(done);
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return codes.find((c) => c !== 0) ?? 0;
}
