/**
 * daprd's flags, shared by `weft sidecar` and `weft run`, and their translation into
 * {@link SidecarOptions}. Flags that only make sense with Dapr's control plane are accepted with a
 * warning so scripts written for daprd keep working.
 */
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { ENGINE_SETTINGS, KUBERNETES_INTERNAL_PORT, KUBERNETES_PUBLIC_PORT, podNamespace, resolveSidecarOptions } from '@weft/runtime';
import type { AppProtocol, EngineSettingSpec, LogLevel, SidecarMode, SidecarOptions } from '@weft/runtime';
import { parseByteSize } from './sizes.js';
import { addTlsFlags, mtlsSourcesFromFlags } from './tls-flags.js';
import type { TlsFlagValues } from './tls-flags.js';

/** Flags accepted for compatibility but not acted on, with why. */
export const IGNORED_FLAGS: Record<string, string> = {
  placementHostAddress: 'Weft needs no placement service',
  schedulerHostAddress: 'Weft needs no scheduler service; jobs and reminders are stored by the sidecar',
  sentryAddress: 'Weft has no Sentry; with --enable-mtls give the certificates yourself (--tls-cert-file, --tls-key-file, --tls-ca-file)',
  controlPlaneAddress: 'Weft has no control plane',
  controlPlaneTrustDomain: 'Weft has no control plane',
  enableProfiling: 'profiling endpoints are not served',
  profilePort: 'profiling endpoints are not served',
  appMaxConcurrency: 'app concurrency limits arrive with service invocation',
  readBufferSize: 'Node sizes its header buffer itself (16 KiB)',
  daprHttpReadBufferSize: 'Node sizes its header buffer itself (16 KiB)',
  unixDomainSocket: 'Unix domain sockets are not supported yet',
  appSsl: 'deprecated in Dapr; use --app-protocol https',
};

const parseBool = (value: string | boolean) => value === true || String(value).toLowerCase() !== 'false';
const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter((v) => v !== '')];
const toInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, got "${value}"`);
  return n;
};

const ENGINE_SETTINGS_NOTE = `
Engine settings (--pubsub-*, --workflow-*) are taken from the flag, else the environment variable named,
else the Configuration field named, else the default. Durations read like 1h30m, 300ms, 1.5h or 7d. An
invalid value stops start-up with an error naming the setting.`;

/** The engine-setting flags given, by setting (commander camel-cases `--workflow-retention`). */
function engineFlagValues(values: SidecarFlagValues): Partial<Record<EngineSettingSpec['key'], string>> {
  const flags: Partial<Record<EngineSettingSpec['key'], string>> = {};
  for (const s of ENGINE_SETTINGS) {
    const value = values[s.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (typeof value === 'string') flags[s.key] = value;
  }
  return flags;
}

/** Adds daprd's flags to a command; `defaults` differ between `sidecar` (fixed ports) and `run` (free ports). */
export function addSidecarFlags(command: Command, defaults: { httpPort?: number; grpcPort?: number; metricsPort?: number }): Command {
  command
    .option('-a, --app-id <id>', 'the app id')
    .option('-p, --app-port <port>', 'the port the app listens on', toInt('app-port'))
    .addOption(new Option('-P, --app-protocol <protocol>', 'the app channel protocol').choices(['http', 'https', 'grpc', 'grpcs', 'h2c']).default('http'))
    .option('--app-channel-address <host>', 'the address the app listens on', '127.0.0.1')
    .option('--resources-path <dir>', 'a directory of resource YAML (repeatable)', collect)
    .option('-d, --components-path <dir>', 'deprecated alias of --resources-path', collect)
    .option('-c, --config <file>', 'a Configuration YAML file')
    .option('-H, --dapr-http-port <port>', 'HTTP API port', toInt('dapr-http-port'), defaults.httpPort)
    .option('-G, --dapr-grpc-port <port>', 'gRPC API port', toInt('dapr-grpc-port'), defaults.grpcPort)
    .addOption(
      new Option('--mode <mode>', 'kubernetes: internal port 50002 on all interfaces, public health port 3501, the pod\'s namespace, cluster DNS name resolution')
        .choices(['standalone', 'kubernetes'])
        .default('standalone'),
    )
    .option('-I, --dapr-internal-grpc-port <port>', 'sidecar-to-sidecar port (HTTP/1.1 for invocation; with mTLS, also HTTP/2 for proxied gRPC); free port if omitted (50002 in Kubernetes mode)', toInt('dapr-internal-grpc-port'))
    .option('--dapr-public-port <port>', 'health-only port for probes (/v1.0/healthz); off if omitted (3501 in Kubernetes mode)', toInt('dapr-public-port'))
    .option('--dapr-public-listen-address <address>', 'address the public port binds to', '0.0.0.0')
    .option('-M, --metrics-port <port>', 'Prometheus metrics port', toInt('metrics-port'), defaults.metricsPort)
    .option('--metrics-listen-address <address>', 'address the metrics endpoint binds to', '127.0.0.1')
    .option('--enable-metrics [enabled]', 'serve Prometheus metrics (true|false)', parseBool, true)
    .option('--enable-api-logging [enabled]', 'log every API call (true|false); overrides the Configuration', parseBool)
    .option('--dapr-listen-addresses <addresses>', 'comma-separated addresses the APIs listen on', '127.0.0.1')
    .option('--dapr-http-max-request-size <mb>', 'largest request body in MB', (v) => Number(v))
    .option('--max-body-size <size>', 'largest request body, e.g. 4Mi (overrides --dapr-http-max-request-size)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'fatal']).default('info'))
    .option('--log-as-json', 'log JSON lines', false)
    .option('--data-dir <dir>', 'where embedded stores live', '.weft')
    .option('--fresh', 'use a throw-away data directory, removed on exit', false)
    .option('--enable-app-health-check', 'probe the app and stop calls to it while it is unhealthy', false)
    .option('--app-health-check-path <path>', 'HTTP path of the app health probe', '/healthz')
    .option('--app-health-probe-interval <seconds>', 'seconds between app health probes', (v) => Number(v), 5)
    .option('--app-health-probe-timeout <ms>', 'milliseconds before a probe fails', (v) => Number(v), 500)
    .option('--app-health-threshold <count>', 'consecutive failed probes before the app is unhealthy', (v) => Number(v), 3)
    .option('--dapr-graceful-shutdown-seconds <seconds>', 'grace period on shutdown', (v) => Number(v), 5);
  addTlsFlags(command);
  // Engine settings: no commander default, so the environment and the Configuration can fill in.
  for (const s of ENGINE_SETTINGS) {
    const sources = [`env ${s.env}`, ...(s.configuration ? [`Configuration ${s.configuration}`] : [])].join(', ');
    const option = new Option(`--${s.flag} <value>`, `${s.description}${s.defaultText ? ` (default: ${s.defaultText})` : ''}; also ${sources}`);
    command.addOption(s.hidden ? option.hideHelp() : option);
  }
  command.addHelpText('after', ENGINE_SETTINGS_NOTE);
  for (const name of Object.keys(IGNORED_FLAGS)) {
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    command.addOption(new Option(`--${flag} [value]`).hideHelp());
  }
  return command;
}

/** The options commander parsed from {@link addSidecarFlags}. */
export interface SidecarFlagValues extends TlsFlagValues {
  appId?: string;
  appPort?: number;
  appProtocol: string;
  appChannelAddress: string;
  resourcesPath?: string[];
  componentsPath?: string[];
  config?: string;
  daprHttpPort: number;
  daprGrpcPort: number;
  metricsPort: number;
  metricsListenAddress: string;
  enableMetrics: boolean;
  enableApiLogging?: boolean;
  daprInternalGrpcPort?: number;
  mode: string;
  daprPublicPort?: number;
  daprPublicListenAddress: string;
  daprListenAddresses: string;
  daprHttpMaxRequestSize?: number;
  maxBodySize?: string;
  logLevel: string;
  logAsJson: boolean;
  dataDir: string;
  fresh: boolean;
  daprGracefulShutdownSeconds: number;
  enableAppHealthCheck: boolean;
  appHealthCheckPath: string;
  appHealthProbeInterval: number;
  appHealthProbeTimeout: number;
  appHealthThreshold: number;
  [ignored: string]: unknown;
}

/** Control-plane flags that were given, with why each is ignored. */
export function ignoredFlagWarnings(values: SidecarFlagValues): string[] {
  return Object.entries(IGNORED_FLAGS)
    .filter(([name]) => values[name] !== undefined)
    .map(([name, why]) => `flag --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is accepted for daprd compatibility and ignored: ${why}`);
}

function positive(flag: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be a positive number`);
  return value;
}

/** Translates parsed flags (plus the environment) into sidecar options. */
export function sidecarOptionsFromFlags(values: SidecarFlagValues, env: NodeJS.ProcessEnv, appIdFallback: string): SidecarOptions {
  const mtls = mtlsSourcesFromFlags(values, env);
  const maxBody =
    values.maxBodySize !== undefined
      ? parseByteSize(values.maxBodySize)
      : values.daprHttpMaxRequestSize !== undefined
        ? Math.floor(values.daprHttpMaxRequestSize * 1024 * 1024)
        : 4 * 1024 * 1024;
  if (!Number.isFinite(maxBody) || maxBody <= 0) throw new Error('the request size limit must be a positive size');
  const mode = (values.mode ?? 'standalone') as SidecarMode;
  const onKubernetes = mode === 'kubernetes';
  // Kubernetes mode takes daprd's injected defaults; flags given explicitly still win.
  const internalPort = values.daprInternalGrpcPort ?? (onKubernetes ? KUBERNETES_INTERNAL_PORT : undefined);
  const publicPort = values.daprPublicPort ?? (onKubernetes ? KUBERNETES_PUBLIC_PORT : undefined);
  return resolveSidecarOptions({
    appId: values.appId ?? appIdFallback,
    ...(values.appPort ? { appPort: values.appPort } : {}),
    appProtocol: values.appProtocol as AppProtocol,
    appChannelAddress: values.appChannelAddress,
    resourcesPaths: [...(values.resourcesPath ?? []), ...(values.componentsPath ?? [])],
    ...(values.config ? { configPath: values.config } : {}),
    httpPort: values.daprHttpPort,
    grpcPort: values.daprGrpcPort,
    metricsPort: values.metricsPort,
    metricsListenAddress: values.metricsListenAddress,
    enableMetrics: values.enableMetrics,
    ...(values.enableApiLogging !== undefined ? { enableApiLogging: values.enableApiLogging } : {}),
    mode,
    ...(internalPort !== undefined ? { internalPort } : {}),
    ...(publicPort !== undefined ? { publicPort } : {}),
    publicListenAddress: values.daprPublicListenAddress ?? '0.0.0.0',
    ...(onKubernetes ? { namespace: podNamespace(env) } : {}),
    listenAddresses: values.daprListenAddresses.split(',').map((a) => a.trim()).filter((a) => a !== ''),
    maxRequestBodyBytes: maxBody,
    logLevel: values.logLevel as LogLevel,
    logAsJson: values.logAsJson,
    dataDir: path.resolve(values.dataDir),
    gracefulShutdownSeconds: values.daprGracefulShutdownSeconds,
    ...(values.enableAppHealthCheck
      ? {
          appHealthCheck: {
            path: values.appHealthCheckPath,
            intervalMs: positive('app-health-probe-interval', values.appHealthProbeInterval) * 1000,
            timeoutMs: positive('app-health-probe-timeout', values.appHealthProbeTimeout),
            threshold: Math.max(1, Math.floor(positive('app-health-threshold', values.appHealthThreshold))),
          },
        }
      : {}),
    ...(mtls ? { mtls } : {}),
    engineFlags: engineFlagValues(values),
    env,
  });
}

/**
 * daprd is a Go program, so scripts often pass `-app-id x` with one dash. Rewrites such single-dash
 * long flags to the double-dash form commander expects.
 */
export function normalizeGoFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const arg of args) {
    if (arg === '--') passthrough = true;
    out.push(!passthrough && /^-[a-z][a-z0-9-]+(=.*)?$/.test(arg) ? `-${arg}` : arg);
  }
  return out;
}
