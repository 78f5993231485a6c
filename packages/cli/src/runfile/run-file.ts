/**
 * Dapr's multi-app run file (`dapr run -f`), read the way the Dapr CLI reads it: `version`, `name`,
 * `common` (shared keys) and `apps`; `common` paths relative to the file, `appDirPath` relative to the
 * file, other per-app paths relative to `appDirPath`. Unknown keys are refused by name. A directory
 * argument means `weft.yaml` (or `dapr.yaml`) inside it.
 *
 * Weft adds mTLS keys (Dapr's run file has none; its sidecars get certificates from Sentry):
 * `enableMtls` and `tlsCaFile` (shared, or per app) and `tlsCertFile`/`tlsKeyFile` (per app, since the
 * certificate names the app). Paths follow the rules above; `DAPR_*` certificate variables can also
 * be given through `env`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseYamlDocuments } from '@weft/runtime';

/** One app of a run file, with paths made absolute and `common` merged in. */
export interface RunFileApp {
  appId: string;
  appDirPath: string;
  command: string[];
  env: Record<string, string>;
  resourcesPaths: string[];
  configFilePath?: string;
  appPort?: number;
  appProtocol?: string;
  appChannelAddress?: string;
  daprHTTPPort?: number;
  daprGRPCPort?: number;
  daprInternalGRPCPort?: number;
  metricsPort?: number;
  maxBodySize?: string;
  logLevel?: string;
  enableAppHealthCheck?: boolean;
  appHealthCheckPath?: string;
  appHealthProbeInterval?: number;
  appHealthProbeTimeout?: number;
  appHealthThreshold?: number;
  /** `--enable-api-logging`. */
  enableApiLogging?: boolean;
  /** `--dapr-listen-addresses`. */
  apiListenAddresses?: string;
  /** `--enable-mtls`. */
  enableMtls?: boolean;
  /** `--tls-cert-file`, absolute. */
  tlsCertFile?: string;
  /** `--tls-key-file`, absolute. */
  tlsKeyFile?: string;
  /** `--tls-ca-file`, absolute. */
  tlsCaFile?: string;
  /** Where the sidecar's lines go. @default 'file' (as Dapr) */
  daprdLogDestination: LogDestination;
  /** Where the app's lines go. @default 'fileAndConsole' (as Dapr) */
  appLogDestination: LogDestination;
}

/** Dapr's log destinations for run files. */
export type LogDestination = 'file' | 'console' | 'fileAndConsole';
const DESTINATIONS: readonly LogDestination[] = ['file', 'console', 'fileAndConsole'];

function destination(file: string, field: string, v: unknown, fallback: LogDestination): LogDestination {
  if (v === undefined || v === null) return fallback;
  if (!DESTINATIONS.includes(v as LogDestination)) throw new RunFileError(file, field, `must be one of ${DESTINATIONS.join(', ')}`);
  return v as LogDestination;
}

/** A parsed run file. */
export interface RunFile {
  /** Absolute path of the file. */
  file: string;
  name: string;
  apps: RunFileApp[];
  /**
   * Weft's `dashboard` key: `true`, or `{port, host}`, starts the dashboard beside the apps (a
   * Weft extension; Dapr's CLI rejects the key, so keep it out of `dapr.yaml` twins).
   */
  dashboard?: { port?: number; host?: string };
  /** Keys that are accepted (Dapr's run files carry them) but have no effect in Weft, each with why. */
  warnings: string[];
}

/** Thrown for a run file that cannot be used; names the file and the key. */
export class RunFileError extends Error {
  constructor(file: string, field: string, detail: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
    this.name = 'RunFileError';
  }
}

const SHARED_KEYS = [
  'configFilePath', 'appProtocol', 'apiListenAddresses', 'enableProfiling', 'logLevel', 'appMaxConcurrency',
  'placementHostAddress', 'schedulerHostAddress', 'resourcesPath', 'resourcesPaths', 'appSSL', 'maxBodySize',
  'readBufferSize', 'enableAppHealthCheck', 'appHealthCheckPath', 'appHealthProbeInterval', 'appHealthProbeTimeout',
  'appHealthThreshold', 'enableApiLogging', 'runtimePath', 'env', 'daprdLogDestination', 'appLogDestination',
  // Weft's mTLS keys (see the module comment).
  'enableMtls', 'tlsCaFile',
  // Dapr's docs still list these older names.
  'daprHTTPMaxRequestSize', 'daprHTTPReadBufferSize',
];
const APP_KEYS = [
  ...SHARED_KEYS, 'appID', 'appDirPath', 'appChannelAddress', 'appPort', 'daprHTTPPort', 'daprGRPCPort',
  'daprInternalGRPCPort', 'metricsPort', 'profilePort', 'unixDomainSocket', 'command', 'containerImage',
  'containerImagePullPolicy', 'createService', 'tlsCertFile', 'tlsKeyFile',
];
const TOP_KEYS = ['version', 'name', 'common', 'apps', 'dashboard'];

/** Keys of Dapr's control plane or container runs: accepted (a dapr.yaml keeps working) with a warning. */
export const NO_EFFECT_KEYS: Record<string, string> = {
  placementHostAddress: 'Weft needs no placement service',
  schedulerHostAddress: 'Weft needs no scheduler service; jobs are stored by the sidecar',
  runtimePath: 'Weft runs its own sidecar, not a daprd binary',
  containerImage: 'Weft runs apps as local processes (Kubernetes runs are not supported)',
  containerImagePullPolicy: 'Weft runs apps as local processes (Kubernetes runs are not supported)',
  createService: 'Weft runs apps as local processes (Kubernetes runs are not supported)',
  readBufferSize: 'Node sizes its header buffer itself (16 KiB)',
  daprHTTPReadBufferSize: 'Node sizes its header buffer itself (16 KiB)',
};

/** Keys that would change behaviour under Dapr and that Weft does not implement: refused. */
export const UNSUPPORTED_KEYS: Record<string, string> = {
  appMaxConcurrency: 'is not supported by Weft (no app concurrency limit); remove it',
  enableProfiling: 'is not supported by Weft (no profiling endpoints); remove it',
  profilePort: 'is not supported by Weft (no profiling endpoints); remove it',
  unixDomainSocket: 'is not supported by Weft (TCP only); remove it',
  appSSL: 'is not supported by Weft (deprecated in Dapr); use appProtocol: https',
};
/** Names tried, in order, when the argument is a directory. */
export const RUN_FILE_NAMES = ['weft.yaml', 'weft.yml', 'dapr.yaml', 'dapr.yml'];

type Raw = Record<string, unknown>;
const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The run file a `-f` argument names (a file, or a directory holding `weft.yaml`/`dapr.yaml`). */
export function resolveRunFilePath(arg: string, cwd = process.cwd()): string {
  const target = path.resolve(cwd, arg);
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new RunFileError(target, '', 'no such file or directory');
  if (stat.isFile()) return target;
  for (const name of RUN_FILE_NAMES) {
    const candidate = path.join(target, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new RunFileError(target, '', `no ${RUN_FILE_NAMES.join(' or ')} in this directory`);
}

function checkKeys(file: string, where: string, raw: Raw, allowed: readonly string[], warnings: string[] = []): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw new RunFileError(file, `${where}${key}`, 'unknown key');
    const unsupported = UNSUPPORTED_KEYS[key];
    if (unsupported && raw[key] !== undefined && raw[key] !== null && raw[key] !== false) throw new RunFileError(file, `${where}${key}`, unsupported);
    const noEffect = NO_EFFECT_KEYS[key];
    if (noEffect) warnings.push(`${file}: ${where}${key} has no effect: ${noEffect}`);
  }
}

function optNumber(file: string, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new RunFileError(file, field, `must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function optString(file: string, field: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new RunFileError(file, field, 'must be a string');
  return String(v);
}

function envOf(file: string, field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new RunFileError(file, field, 'must be a mapping of names to values');
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, String(val)]));
}

function pathsOf(file: string, field: string, raw: Raw, base: string): string[] {
  const list: unknown[] = [];
  if (raw['resourcesPath'] !== undefined) list.push(raw['resourcesPath']);
  const many = raw['resourcesPaths'];
  if (many !== undefined) {
    if (!Array.isArray(many)) throw new RunFileError(file, `${field}resourcesPaths`, 'must be a list');
    list.push(...(many as unknown[]));
  }
  return list.map((p) => {
    if (typeof p !== 'string') throw new RunFileError(file, `${field}resourcesPaths`, 'must hold strings');
    return path.resolve(base, p);
  });
}

function boolOf(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  return v === true || v === 'true';
}

/** Parses run-file text. `exists` decides the `.dapr/resources` and `.dapr/config.yaml` fallbacks. */
export function parseRunFile(file: string, text: string, exists: (p: string) => boolean = fs.existsSync): RunFile {
  const [doc] = parseYamlDocuments(file, text);
  if (!doc) throw new RunFileError(file, '', 'the file is empty');
  checkKeys(file, '', doc, TOP_KEYS);
  const version = doc['version'];
  if (version !== undefined && Number(version) !== 1) throw new RunFileError(file, 'version', `only version 1 is supported, got ${String(version)}`);
  const base = path.dirname(file);
  const common = doc['common'] ?? {};
  if (!isRecord(common)) throw new RunFileError(file, 'common', 'must be a mapping');
  const warnings: string[] = [];
  checkKeys(file, 'common.', common, SHARED_KEYS, warnings);
  const commonResources = pathsOf(file, 'common.', common, base);
  const commonConfig = optString(file, 'common.configFilePath', common['configFilePath']);
  const rawApps = doc['apps'];
  if (!Array.isArray(rawApps) || rawApps.length === 0) throw new RunFileError(file, 'apps', 'must be a non-empty list');
  const apps = rawApps.map((raw: unknown, i): RunFileApp => {
    const where = `apps[${i}].`;
    if (!isRecord(raw)) throw new RunFileError(file, `apps[${i}]`, 'must be a mapping');
    checkKeys(file, where, raw, APP_KEYS, warnings);
    const dir = optString(file, `${where}appDirPath`, raw['appDirPath']);
    if (!dir) throw new RunFileError(file, `${where}appDirPath`, 'is required');
    const appDirPath = path.resolve(base, dir);
    const appId = optString(file, `${where}appID`, raw['appID']) ?? path.basename(appDirPath);
    const command = raw['command'] ?? [];
    if (!Array.isArray(command) || command.some((c) => typeof c !== 'string')) {
      throw new RunFileError(file, `${where}command`, 'must be a list of strings');
    }
    const merged: Raw = { ...common, ...raw };
    const appResources = pathsOf(file, where, raw, appDirPath);
    const dotDapr = path.join(appDirPath, '.dapr');
    const resourcesPaths =
      appResources.length > 0 ? appResources : exists(path.join(dotDapr, 'resources')) ? [path.join(dotDapr, 'resources')] : commonResources;
    const appConfig = optString(file, `${where}configFilePath`, raw['configFilePath']);
    const configFilePath = appConfig
      ? path.resolve(appDirPath, appConfig)
      : exists(path.join(dotDapr, 'config.yaml'))
        ? path.join(dotDapr, 'config.yaml')
        : commonConfig
          ? path.resolve(base, commonConfig)
          : undefined;
    const maxBody = optString(file, `${where}maxBodySize`, merged['maxBodySize']);
    const legacyMax = optNumber(file, `${where}daprHTTPMaxRequestSize`, merged['daprHTTPMaxRequestSize']);
    const app: RunFileApp = {
      appId,
      appDirPath,
      command: command as string[],
      env: { ...envOf(file, 'common.env', common['env']), ...envOf(file, `${where}env`, raw['env']) },
      resourcesPaths,
      ...(configFilePath ? { configFilePath } : {}),
      daprdLogDestination: destination(file, `${where}daprdLogDestination`, merged['daprdLogDestination'], 'file'),
      appLogDestination: destination(file, `${where}appLogDestination`, merged['appLogDestination'], 'fileAndConsole'),
    };
    const numbers = ['appPort', 'daprHTTPPort', 'daprGRPCPort', 'daprInternalGRPCPort', 'metricsPort', 'appHealthProbeInterval', 'appHealthProbeTimeout', 'appHealthThreshold'] as const;
    for (const key of numbers) {
      const n = optNumber(file, `${where}${key}`, merged[key]);
      if (n !== undefined) app[key] = n;
    }
    for (const key of ['appProtocol', 'appChannelAddress', 'logLevel', 'appHealthCheckPath', 'apiListenAddresses'] as const) {
      const s = optString(file, `${where}${key}`, merged[key]);
      if (s !== undefined) app[key] = s;
    }
    if (maxBody !== undefined) app.maxBodySize = maxBody;
    else if (legacyMax !== undefined) app.maxBodySize = `${legacyMax}Mi`;
    const health = boolOf(merged['enableAppHealthCheck']);
    if (health !== undefined) app.enableAppHealthCheck = health;
    const apiLogging = boolOf(merged['enableApiLogging']);
    if (apiLogging !== undefined) app.enableApiLogging = apiLogging;
    const mtls = boolOf(merged['enableMtls']);
    if (mtls !== undefined) app.enableMtls = mtls;
    for (const key of ['tlsCertFile', 'tlsKeyFile'] as const) {
      const p = optString(file, `${where}${key}`, raw[key]);
      if (p !== undefined) app[key] = path.resolve(appDirPath, p);
    }
    const appCa = optString(file, `${where}tlsCaFile`, raw['tlsCaFile']);
    const commonCa = optString(file, 'common.tlsCaFile', common['tlsCaFile']);
    if (appCa !== undefined) app.tlsCaFile = path.resolve(appDirPath, appCa);
    else if (commonCa !== undefined) app.tlsCaFile = path.resolve(base, commonCa);
    return app;
  });
  const ids = new Set<string>();
  for (const [i, app] of apps.entries()) {
    if (ids.has(app.appId)) throw new RunFileError(file, `apps[${i}].appID`, `duplicate app id "${app.appId}"`);
    ids.add(app.appId);
  }
  const dashboard = dashboardOf(file, doc['dashboard']);
  return { file, name: optString(file, 'name', doc['name']) ?? '', apps, warnings, ...(dashboard ? { dashboard } : {}) };
}

/** Reads the top-level `dashboard` key: a boolean or `{port, host}`. */
function dashboardOf(file: string, raw: unknown): RunFile['dashboard'] {
  if (raw === undefined || raw === null || raw === false || raw === 'false') return undefined;
  if (raw === true || raw === 'true') return {};
  if (!isRecord(raw)) throw new RunFileError(file, 'dashboard', 'must be true, false or a mapping with port and host');
  checkKeys(file, 'dashboard.', raw, ['port', 'host']);
  const port = optNumber(file, 'dashboard.port', raw['port']);
  const host = optString(file, 'dashboard.host', raw['host']);
  return { ...(port !== undefined ? { port } : {}), ...(host !== undefined ? { host } : {}) };
}

/** Reads and parses the run file a `-f` argument names. */
export function loadRunFile(arg: string, cwd = process.cwd()): RunFile {
  const file = resolveRunFilePath(arg, cwd);
  return parseRunFile(file, fs.readFileSync(file, 'utf8'));
}
