/**
 * Starts an in-process sidecar for the observability suites: inline resources and Configuration,
 * an optional custom registry (fault-injecting drivers), log lines captured as JSON objects.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Sidecar, builtinRegistry, createLogger, resolveSidecarOptions } from '../../packages/runtime/src/index.js';
import type { ComponentRegistry, SidecarOptions } from '../../packages/runtime/src/index.js';

/** A started sidecar with its captured logs. */
export interface ObservedSidecar {
  sidecar: Sidecar;
  baseUrl: string;
  dir: string;
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  /** Every byte logged so far. */
  rawLogs(): string;
  stop(): Promise<void>;
}

/** Options of {@link startObservedSidecar}. */
export interface ObservedSidecarOptions extends Partial<SidecarOptions> {
  resources?: string[];
  /** Configuration YAML, written to a file and passed as `--config`. */
  config?: string;
  registry?: ComponentRegistry;
}

/** Writes the resources and config into a temp directory and starts a sidecar on free ports. */
export async function startObservedSidecar(options: ObservedSidecarOptions = {}): Promise<ObservedSidecar> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-observe-'));
  const { resources, config, registry, ...rest } = options;
  const resourcesDir = path.join(dir, 'resources');
  await fs.mkdir(resourcesDir);
  await Promise.all((resources ?? []).map((yaml, i) => fs.writeFile(path.join(resourcesDir, `r${i}.yaml`), yaml)));
  let configPath: string | undefined;
  if (config) {
    configPath = path.join(dir, 'config.yaml');
    await fs.writeFile(configPath, config);
  }
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw += chunk.toString('utf8');
      done();
    },
  });
  const sidecarOptions = resolveSidecarOptions({
    appId: 'observe-app',
    httpPort: 0,
    grpcPort: 0,
    metricsPort: -1,
    dataDir: path.join(dir, '.weft'),
    resourcesPaths: resources ? [resourcesDir] : [],
    env: {},
    logLevel: 'debug',
    ...(configPath ? { configPath } : {}),
    ...rest,
  });
  const logger = createLogger({ level: sidecarOptions.logLevel, json: true, appId: sidecarOptions.appId, destination });
  let sidecar: Sidecar;
  try {
    sidecar = await Sidecar.start(sidecarOptions, { logger, registry: registry ?? builtinRegistry() });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    sidecar,
    baseUrl: `http://127.0.0.1:${sidecar.httpPort}`,
    dir,
    logs: () =>
      raw
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    rawLogs: () => raw,
    stop: async () => {
      await sidecar.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A `secretstores.local.file` component over a JSON file written into `dir`. */
export async function localFileSecretStore(dir: string, name: string, secrets: Record<string, string>): Promise<string> {
  const file = path.join(dir, `${name}-secrets.json`);
  await fs.writeFile(file, JSON.stringify(secrets));
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: "${file}"}
`;
}
