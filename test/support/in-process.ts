/**
 * Starts a real sidecar in this process on free ports, with resources written from inline YAML, for
 * the in-process test tier. Each call gets its own temp directory (data and resources).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Sidecar, resolveSidecarOptions, silentLogger } from '../../packages/runtime/src/index.js';
import type { SidecarOptions } from '../../packages/runtime/src/index.js';

/** A started in-process sidecar and helpers around it. */
export interface TestSidecar {
  sidecar: Sidecar;
  /** `http://127.0.0.1:<port>` of the HTTP API. */
  baseUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/** Options for {@link startTestSidecar}. */
export interface TestSidecarOptions extends Partial<SidecarOptions> {
  /** Resource YAML documents; each string becomes one file. Omit for the embedded defaults. */
  resources?: string[];
}

/** Starts a sidecar with inline resources (or the embedded defaults) on free ports. */
export async function startTestSidecar(options: TestSidecarOptions = {}): Promise<TestSidecar> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-test-'));
  const { resources, ...rest } = options;
  const resourcesPaths: string[] = [];
  if (resources) {
    const resourcesDir = path.join(dir, 'resources');
    await fs.mkdir(resourcesDir);
    await Promise.all(resources.map((yaml, i) => fs.writeFile(path.join(resourcesDir, `r${i}.yaml`), yaml)));
    resourcesPaths.push(resourcesDir);
  }
  const sidecar = await Sidecar.start(
    resolveSidecarOptions({
      appId: 'test-app',
      httpPort: 0,
      grpcPort: 0,
      metricsPort: -1,
      dataDir: path.join(dir, '.weft'),
      resourcesPaths,
      env: {},
      ...rest,
    }),
    { logger: silentLogger() },
  );
  return {
    sidecar,
    baseUrl: `http://127.0.0.1:${sidecar.httpPort}`,
    dir,
    stop: async () => {
      await sidecar.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
