/**
 * A Weft sidecar process for workflow compatibility suites, on the embedded SQLite backend, on
 * Postgres (a `state.postgresql` component marked `actorStateStore`) or on Redis (a `state.redis` one),
 * plus polling helpers.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Sidecar, builtinRegistry, resolveSidecarOptions, silentLogger } from '../../packages/runtime/src/index.js';
import { InMemoryStateStore } from '../../packages/runtime/src/components/state/in-memory/in-memory-store.js';
import { startWeftSidecar } from './weft-process.js';
import type { WeftProcess } from './weft-process.js';

/** A running sidecar and where its data lives. */
export interface WorkflowTarget {
  sidecar: { httpPort: number; grpcPort: number };
  /** The child process, when the sidecar runs as the real `weft` binary. */
  process?: WeftProcess;
  dataDir: string;
  appId: string;
  stop(): Promise<void>;
}

/**
 * Starts `weft sidecar` for workflows; with `postgresUrl` the workflow backend is that database, with
 * `redisHost` (`host:port`) that Redis (keys under the app id's prefix: drop them after the test with
 * `dropRedisWorkflowApps` from `redis-workflows.ts`).
 */
export async function startWorkflowSidecar(
  appId: string,
  options: { postgresUrl?: string; redisHost?: string; env?: NodeJS.ProcessEnv; dataDir?: string } = {},
): Promise<WorkflowTarget> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-')));
  const args = ['--app-id', appId, '--data-dir', dataDir, '--log-level', 'warn'];
  if (options.postgresUrl) args.push('--resources-path', await writePostgresComponent(dataDir, options.postgresUrl));
  else if (options.redisHost) args.push('--resources-path', await writeRedisComponent(dataDir, options.redisHost));
  const sidecar = await startWeftSidecar(args, options.env ? { env: options.env } : {});
  return {
    sidecar,
    process: sidecar,
    dataDir,
    appId,
    stop: async () => {
      await sidecar.stop();
    },
  };
}

/**
 * A sidecar whose workflow backend is Postgres. It is the real `weft sidecar` process when the build
 * ships the `state.postgresql` driver; until then (this branch predates it) it is an in-process sidecar
 * with an in-memory stand-in registered as `state.postgresql`: the workflow engine only reads the
 * component's `connectionString`, so the backend under test is the real Postgres one either way.
 */
export async function startPostgresWorkflowSidecar(appId: string, postgresUrl: string, env: NodeJS.ProcessEnv = {}): Promise<WorkflowTarget> {
  if (builtinRegistry().supportedTypes('state').includes('state.postgresql')) return startWorkflowSidecar(appId, { postgresUrl, env });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-pg-'));
  const registry = builtinRegistry().register({ type: 'state.postgresql', versions: ['v1', 'v2'], create: () => new InMemoryStateStore() });
  await writePostgresComponent(dataDir, postgresUrl);
  const sidecar = await Sidecar.start(
    resolveSidecarOptions({
      appId,
      httpPort: 0,
      grpcPort: 0,
      metricsPort: -1,
      dataDir,
      resourcesPaths: [path.join(dataDir, 'resources')],
      env: { ...env },
    }),
    { logger: silentLogger(), registry },
  );
  return { sidecar, dataDir, appId, stop: () => sidecar.stop() };
}

/** Unique to this test process, so parallel runs and other layouts never meet. */
const TABLE_SUFFIX = `${process.pid}_${Date.now().toString(36)}`;

/**
 * Writes a state component marked as the actor state store (so workflows live there) into
 * `<dataDir>/resources`, and returns that folder.
 */
async function writeActorStoreComponent(dataDir: string, type: string, metadata: Record<string, string>): Promise<string> {
  const resources = path.join(dataDir, 'resources');
  await fs.mkdir(resources, { recursive: true });
  const entries = { ...metadata, actorStateStore: 'true' };
  await fs.writeFile(
    path.join(resources, 'statestore.yaml'),
    [
      'apiVersion: dapr.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: statestore',
      'spec:',
      `  type: ${type}`,
      '  version: v1',
      '  metadata:',
      ...Object.entries(entries).flatMap(([name, value]) => [`    - name: ${name}`, `      value: "${value}"`]),
      '',
    ].join('\n'),
  );
  return resources;
}

function writePostgresComponent(dataDir: string, postgresUrl: string): Promise<string> {
  return writeActorStoreComponent(dataDir, 'state.postgresql', {
    connectionString: postgresUrl,
    // Its own tables: the shared test database may hold a "state" table of another layout.
    tableName: `weft_wft_state_${TABLE_SUFFIX}`,
    metadataTableName: `weft_wft_meta_${TABLE_SUFFIX}`,
  });
}

function writeRedisComponent(dataDir: string, redisHost: string): Promise<string> {
  return writeActorStoreComponent(dataDir, 'state.redis', { redisHost });
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
