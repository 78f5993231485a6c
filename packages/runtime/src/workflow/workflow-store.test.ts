/** Where workflows live follows the declared actor state store. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, TEST_REDIS } from '../../../../test/support/redis-workflows.js';
import { SERVICES, requireService } from '../../../../test/support/services.js';
import { freePort } from '../../../../test/support/weft-process.js';
import type { ComponentManager, LoadedComponent } from '../components/manager.js';
import { resolveEngineSettings } from '../config/engine-settings.js';
import { silentLogger } from '../logging/logger.js';
import { EMBEDDED_SOURCE } from '../sidecar/embedded.js';
import { createWorkflowEngine } from './create-engine.js';
import { chooseWorkflowStore } from './workflow-store.js';

afterAll(() => dropRedisWorkflowApps());

function components(...list: Partial<LoadedComponent>[]): ComponentManager {
  const loaded = list.map((c) => ({ name: 'store', version: 'v1', kind: 'state', source: '/app/components/store.yaml', properties: {}, ...c }));
  return { ofKind: (kind: string) => loaded.filter((c) => c.kind === kind) } as unknown as ComponentManager;
}

const actor = { actorStateStore: 'true' };
const DATA = '/app/.weft';

describe('choosing the workflow store', () => {
  it('uses the embedded SQLite file when no actor state store is declared, or the declared one is the embedded default', () => {
    expect(chooseWorkflowStore(components({ type: 'state.redis', properties: { redisHost: 'r:6379' } }), DATA)).toMatchObject({ kind: 'sqlite', file: path.join(DATA, 'workflows.sqlite') });
    const embedded = components({ type: 'state.sqlite', source: EMBEDDED_SOURCE, properties: { ...actor, connectionString: path.join(DATA, 'state.sqlite') } });
    expect(chooseWorkflowStore(embedded, DATA)).toMatchObject({ kind: 'sqlite', file: path.join(DATA, 'workflows.sqlite') });
  });

  it('puts workflows on a Redis actor state store, with its connection settings and no password in the description', () => {
    const store = chooseWorkflowStore(
      components({ name: 'actors', type: 'state.redis', properties: { ...actor, redisHost: 'redis.local:6380', redisPassword: 's3cret', redisUsername: 'app', redisDB: '2', enableTLS: 'true' } }),
      DATA,
    );
    expect(store).toMatchObject({ kind: 'redis', component: 'actors', options: { host: 'redis.local', port: 6380, password: 's3cret', username: 'app', db: 2, tls: {} } });
    expect(store.describe).toBe('Redis backend in the actor state store "actors" (redis.local:6380 db 2, TLS)');
    expect(store.describe).not.toContain('s3cret');
  });

  it('puts workflows on a Postgres actor state store, naming its host and database but not its password', () => {
    const store = chooseWorkflowStore(components({ type: 'state.postgresql', version: 'v2', properties: { ...actor, connectionString: 'postgres://u:pw@db:5432/app' } }), DATA);
    expect(store).toMatchObject({ kind: 'postgres', connectionString: 'postgres://u:pw@db:5432/app' });
    expect(store.describe).toBe('PostgreSQL backend in the actor state store "store" (db:5432/app)');
    const dsn = chooseWorkflowStore(components({ type: 'state.postgresql', properties: { ...actor, connectionString: 'host=db.internal user=app password=pw dbname=orders' } }), DATA);
    expect(dsn.describe).toBe('PostgreSQL backend in the actor state store "store" (db.internal/orders)');
  });

  it("puts workflows in a declared SQLite actor store's own file, or in memory when the store is", () => {
    expect(chooseWorkflowStore(components({ type: 'state.sqlite', properties: { ...actor, connectionString: '/data/actors.db' } }), DATA)).toMatchObject({ kind: 'sqlite', file: '/data/actors.db' });
    expect(chooseWorkflowStore(components({ type: 'state.sqlite', properties: { ...actor, connectionString: ':memory:' } }), DATA)).toMatchObject({ kind: 'sqlite', file: ':memory:' });
  });

  it('keeps workflows in memory on a state.in-memory actor store', () => {
    expect(chooseWorkflowStore(components({ type: 'state.in-memory', properties: actor }), DATA)).toMatchObject({ kind: 'memory' });
  });

  it('refuses an actor state store that cannot host workflows, naming it, its type and the types that can', () => {
    expect(() => chooseWorkflowStore(components({ name: 'mongo', type: 'state.mongodb', properties: actor }), DATA)).toThrow(
      /actor state store "mongo" \(state\.mongodb\) cannot host workflows: .*state\.postgresql, state\.redis, state\.sqlite, state\.in-memory/,
    );
  });

  it('refuses bad Redis metadata with the state.redis driver’s own error', () => {
    expect(() => chooseWorkflowStore(components({ type: 'state.redis', properties: { ...actor, redisHost: 'a:1,b:2' } }), DATA)).toThrow(/redisHost/);
  });

  it('fails start-up with the address tried when the Redis actor state store is unreachable', async () => {
    const port = await freePort();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-store-'));
    try {
      await expect(
        createWorkflowEngine({
          appId: 'unreachable',
          dataDir,
          components: components({ type: 'state.redis', properties: { ...actor, redisHost: `127.0.0.1:${port}` } }),
          settings: resolveEngineSettings({ env: {} }),
          logger: silentLogger(),
        }),
      ).rejects.toThrow(`cannot reach Redis at 127.0.0.1:${port}`);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('runs workflows on the Redis actor state store', async () => {
    if (!(await requireService(SERVICES.redis, 'workflows on a Redis actor state store'))) return;
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-store-'));
    const appId = newRedisWorkflowApp('store');
    const engine = await createWorkflowEngine({
      appId,
      dataDir,
      components: components({ type: 'state.redis', properties: { ...actor, redisHost: `${TEST_REDIS.host}:${TEST_REDIS.port}` } }),
      settings: resolveEngineSettings({ env: {} }),
      logger: silentLogger(),
    });
    try {
      await engine.start({ instanceId: 'on-redis', name: 'wf', input: null });
      expect((await engine.get('on-redis'))?.status).toBe('PENDING');
      await expect(fs.access(path.join(dataDir, 'workflows.sqlite'))).rejects.toThrow();
    } finally {
      await engine.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
