/**
 * A Weft sidecar process for workflow compatibility suites, on the embedded SQLite backend or on
 * Postgres (a `state.postgresql` component marked `actorStateStore`), plus polling helpers.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startWeftSidecar } from './weft-process.js';
import type { WeftProcess } from './weft-process.js';

/** A running sidecar and where its data lives. */
export interface WorkflowTarget {
  sidecar: WeftProcess;
  dataDir: string;
  appId: string;
  stop(): Promise<void>;
}

/** Starts `weft sidecar` for workflows; with `postgresUrl` the workflow backend is that database. */
export async function startWorkflowSidecar(
  appId: string,
  options: { postgresUrl?: string; env?: NodeJS.ProcessEnv; dataDir?: string } = {},
): Promise<WorkflowTarget> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-')));
  const args = ['--app-id', appId, '--data-dir', dataDir, '--log-level', 'warn'];
  if (options.postgresUrl) {
    const resources = path.join(dataDir, 'resources');
    await fs.mkdir(resources, { recursive: true });
    await fs.writeFile(
      path.join(resources, 'statestore.yaml'),
      [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: statestore',
        'spec:',
        '  type: state.postgresql',
        '  version: v1',
        '  metadata:',
        '    - name: connectionString',
        `      value: "${options.postgresUrl}"`,
        '    - name: actorStateStore',
        '      value: "true"',
        '',
      ].join('\n'),
    );
    args.push('--resources-path', resources);
  }
  const sidecar = await startWeftSidecar(args, options.env ? { env: options.env } : {});
  return {
    sidecar,
    dataDir,
    appId,
    stop: async () => {
      await sidecar.stop();
    },
  };
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
