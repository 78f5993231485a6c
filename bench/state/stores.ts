/**
 * The stores under test: for each, the component YAML Weft loads, the connection facts of the raw
 * baseline, a reachability check, and the clean-up of everything the run wrote.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RawStoreConfig, StoreId } from './types.js';

/** The component name every benchmark sidecar uses. */
export const STORE_NAME = 'bench';

/** Where the real services of this machine listen (the test suite's variables and defaults). */
const POSTGRES_URL = process.env['WEFT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const [REDIS_HOST, REDIS_PORT] = ((): [string, number] => {
  const [host, port] = (process.env['WEFT_TEST_REDIS_HOST'] ?? '127.0.0.1:6379').split(':');
  return [host || '127.0.0.1', Number(port || 6379)];
})();

/** One store's set-up for one run. */
export interface StoreSetup {
  id: StoreId;
  /** The Dapr component type Weft must have registered. */
  componentType: string;
  /** Component YAML for the sidecar's resources directory. */
  componentYaml: string;
  /** How the raw worker reaches the same store. */
  raw: RawStoreConfig;
  /** Resolves to a reason when the backing service is not reachable. */
  unreachable(): Promise<string | undefined>;
  /** Removes the tables or keys this run wrote. */
  cleanup(): Promise<void>;
}

function component(type: string, metadata: Record<string, string>): string {
  const lines = Object.entries(metadata).map(([name, value]) => `  - name: ${name}\n    value: ${JSON.stringify(value)}`);
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${STORE_NAME}
spec:
  type: ${type}
  version: v1
  metadata:
${lines.join('\n')}
`;
}

function tcpReachable(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`${host}:${port} did not answer within 1 s`);
    });
    socket.once('error', (err) => resolve(`${host}:${port} is not reachable: ${err.message}`));
  });
}

/**
 * The set-up of `id` for run `runId`: unique table names and key prefixes, files under `workDir`.
 * `weftPrefix` is the app id the sidecar runs as, which Weft puts before every key.
 */
export function storeSetup(id: StoreId, runId: string, workDir: string): StoreSetup {
  const table = `weft_bench_${runId}`;
  switch (id) {
    case 'sqlite': {
      // Separate files so the raw loop and Weft never contend for one SQLite write lock.
      const weftFile = path.join(workDir, 'weft.sqlite');
      const rawFile = path.join(workDir, 'raw.sqlite');
      return {
        id,
        componentType: 'state.sqlite',
        componentYaml: component('state.sqlite', { connectionString: weftFile, tableName: table }),
        raw: { store: 'sqlite', filePath: rawFile, tableName: table },
        unreachable: async () => undefined,
        cleanup: async () => {
          for (const file of [weftFile, rawFile]) {
            for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
          }
        },
      };
    }
    case 'redis':
      return {
        id,
        componentType: 'state.redis',
        componentYaml: component('state.redis', { redisHost: `${REDIS_HOST}:${REDIS_PORT}` }),
        raw: { store: 'redis', redisHost: REDIS_HOST, redisPort: REDIS_PORT },
        unreachable: () => tcpReachable(REDIS_HOST, REDIS_PORT),
        cleanup: async () => {
          const { cleanupRedis } = await import('./raw/redis.js');
          await cleanupRedis(REDIS_HOST, REDIS_PORT, `*${runId}*`);
        },
      };
    case 'postgres': {
      const url = new URL(POSTGRES_URL);
      return {
        id,
        componentType: 'state.postgresql',
        componentYaml: component('state.postgresql', {
          connectionString: POSTGRES_URL,
          tableName: table,
          metadataTableName: `${table}_meta`,
        }),
        raw: { store: 'postgres', connectionString: POSTGRES_URL, tableName: `${table}_raw` },
        unreachable: () => tcpReachable(url.hostname, Number(url.port || 5432)),
        cleanup: async () => {
          const { cleanupPostgres } = await import('./raw/postgres.js');
          await cleanupPostgres(POSTGRES_URL, [table, `${table}_meta`, `${table}_raw`]);
        },
      };
    }
  }
}
