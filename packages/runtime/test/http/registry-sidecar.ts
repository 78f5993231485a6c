/**
 * In-process sidecars with a custom component registry, for HTTP tests that need a test driver (a
 * store without TRANSACTIONAL, say). Same shape as `startTestSidecar`, which takes no registry.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Sidecar, builtinRegistry, resolveSidecarOptions, silentLogger } from '../../src/index.js';
import type { ComponentRegistry } from '../../src/index.js';
import type { ComponentContext } from '../../src/components/component.js';
import type { MetadataProperties } from '../../src/components/metadata.js';
import { assertNumericEtag, checkWrite } from '../../src/components/state/etag.js';
import type {
  StateDeleteRequest,
  StateFeature,
  StateGetRequest,
  StateItem,
  StateSetRequest,
  StateStore,
} from '../../src/components/state/store.js';
import type { TestSidecar, TestSidecarOptions } from '../../../../test/support/in-process.js';

/**
 * A minimal state store: etags (checked with the shared rules) but no transactions, bulk get, TTL or
 * query; the least a driver may offer.
 */
export class PlainStateStore implements StateStore {
  private readonly items = new Map<string, StateItem>();
  private version = 0;

  async init(_props: MetadataProperties, _context: ComponentContext): Promise<void> {}

  features(): readonly StateFeature[] {
    return ['ETAG'];
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    return this.items.get(request.key);
  }

  async set(request: StateSetRequest): Promise<void> {
    assertNumericEtag(request.etag);
    checkWrite(request.key, this.items.get(request.key), request);
    this.items.set(request.key, { value: Buffer.from(request.value), etag: String(++this.version) });
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    assertNumericEtag(request.etag);
    checkWrite(request.key, this.items.get(request.key), request);
    this.items.delete(request.key);
  }

  async close(): Promise<void> {}
}

/** The built-in drivers plus `state.plain` ({@link PlainStateStore}). */
export function registryWithPlainStore(): ComponentRegistry {
  return builtinRegistry().register({ type: 'state.plain', versions: ['v1'], create: () => new PlainStateStore() });
}

/** Starts an in-process sidecar with inline resources and the given registry, on free ports. */
export async function startSidecarWithRegistry(registry: ComponentRegistry, options: TestSidecarOptions = {}): Promise<TestSidecar> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-test-'));
  const { resources = [], ...rest } = options;
  const resourcesDir = path.join(dir, 'resources');
  await fs.mkdir(resourcesDir);
  await Promise.all(resources.map((yaml, i) => fs.writeFile(path.join(resourcesDir, `r${i}.yaml`), yaml)));
  const sidecar = await Sidecar.start(
    resolveSidecarOptions({
      appId: 'test-app',
      httpPort: 0,
      grpcPort: 0,
      metricsPort: -1,
      dataDir: path.join(dir, '.weft'),
      resourcesPaths: [resourcesDir],
      env: {},
      ...rest,
    }),
    { logger: silentLogger(), registry },
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
