/**
 * Fixtures for the `@dapr/dapr` compatibility tier: a resources directory in a temp dir (SQLite state
 * store, JSON-file and env secret stores), a real `weft sidecar` process over it, and SDK clients in
 * either protocol with their logging captured instead of printed.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import type { LoggerService } from '@dapr/dapr';
import { startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';

/** The protocols the SDK speaks, with a readable name for test titles. */
export const PROTOCOLS = [
  { name: 'HTTP', protocol: CommunicationProtocolEnum.HTTP },
  { name: 'gRPC', protocol: CommunicationProtocolEnum.GRPC },
] as const;

/** One entry of {@link PROTOCOLS}. */
export type ProtocolCase = (typeof PROTOCOLS)[number];

/** Component names declared by {@link writeResources}. */
export const STORES = { state: 'statestore', fileSecrets: 'filesecrets', envSecrets: 'envsecrets' } as const;

/** The JSON secrets file content: nested values flatten to `db:user` etc. */
export const FILE_SECRETS = { db: { user: 'admin', password: 's3cret' }, greeting: 'hello' };

/** Env vars the env secret store exposes (passed to the sidecar process only). */
export const ENV_SECRETS = { WEFT_COMPAT_SECRET: 'from-env', WEFT_COMPAT_OTHER: 'other-env' };

/** Writes the component YAML and the secrets file into `dir/resources`; returns the resources path. */
export async function writeResources(dir: string, stateType: 'state.sqlite' | 'state.in-memory' = 'state.sqlite'): Promise<string> {
  const resources = path.join(dir, 'resources');
  await fs.mkdir(resources, { recursive: true });
  const secretsFile = path.join(dir, 'secrets.json');
  await fs.writeFile(secretsFile, JSON.stringify(FILE_SECRETS));
  const stateMetadata =
    stateType === 'state.sqlite' ? `  metadata:\n  - name: connectionString\n    value: ${path.join(dir, 'state.sqlite')}\n` : '';
  const yaml = [
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${STORES.state}\nspec:\n  type: ${stateType}\n  version: v1\n${stateMetadata}`,
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${STORES.fileSecrets}\nspec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n  - name: secretsFile\n    value: ${secretsFile}\n`,
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${STORES.envSecrets}\nspec:\n  type: secretstores.local.env\n  version: v1\n`,
  ].join('---\n');
  await fs.writeFile(path.join(resources, 'components.yaml'), yaml);
  return resources;
}

/** A fresh temp directory; remove it with {@link removeDir}. */
export function tempDir(label: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `weft-compat-${label}-`));
}

/** Removes a temp directory made by {@link tempDir}. */
export function removeDir(dir: string): Promise<void> {
  return fs.rm(dir, { recursive: true, force: true });
}

/** A sidecar process over {@link writeResources}, with its temp dir. */
export interface CompatSidecar {
  weft: WeftProcess;
  dir: string;
  appId: string;
  /** Stops the process and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts `weft sidecar` with the compat resources; `env` is added to the process environment. */
export async function startCompatSidecar(
  options: { appId?: string; stateType?: 'state.sqlite' | 'state.in-memory'; env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<CompatSidecar> {
  const dir = await tempDir('sidecar');
  const appId = options.appId ?? `compat-${process.pid}`;
  const resources = await writeResources(dir, options.stateType);
  const weft = await startWeftSidecar(['--app-id', appId, '--resources-path', resources, ...(options.args ?? [])], {
    cwd: dir,
    env: { ...ENV_SECRETS, ...options.env },
  });
  return {
    weft,
    dir,
    appId,
    close: async () => {
      await weft.stop();
      await removeDir(dir);
    },
  };
}

/** What the SDK logged, so tests stay quiet and can still look at it. */
export class CapturedLogs implements LoggerService {
  readonly lines: string[] = [];
  private add(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push([level, message, ...rest].map(String).join(' '));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.add('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.add('warn', message, rest);
  }
  info(message: unknown, ...rest: unknown[]): void {
    this.add('info', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.add('verbose', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.add('debug', message, rest);
  }
}

/** A `DaprClient` for a sidecar process in the given protocol; its logs go to `logs`. */
export function sdkClient(
  weft: Pick<WeftProcess, 'httpPort' | 'grpcPort'>,
  protocol: CommunicationProtocolEnum,
  options: { apiToken?: string; logs?: CapturedLogs } = {},
): DaprClient {
  const grpc = protocol === CommunicationProtocolEnum.GRPC;
  return new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(grpc ? weft.grpcPort : weft.httpPort),
    communicationProtocol: protocol,
    ...(options.apiToken ? { daprApiToken: options.apiToken } : {}),
    logger: { level: LogLevel.Debug, service: options.logs ?? new CapturedLogs() },
  });
}

/** A unique key prefix for one test. */
export function uniquePrefix(label: string): string {
  return `${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}-`;
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
