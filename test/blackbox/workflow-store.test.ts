/**
 * Where workflows live, seen from outside: `weft sidecar` with a Redis actor state store says so in its
 * start-up banner (address and database, never the password) and keeps the workflows in that Redis,
 * under the app id's key prefix.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS, dropRedisWorkflowApps, newRedisWorkflowApp } from '../support/redis-workflows.js';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { startWeftSidecar } from '../support/weft-process.js';
import { eventually } from '../support/workflow-target.js';

const run = await requireService(SERVICES.redis, 'workflows on a Redis actor state store (black box)');
afterAll(() => dropRedisWorkflowApps());

describe.runIf(run)('workflows on a Redis actor state store', () => {
  it('names the store in the banner without its password and keeps started workflows in that Redis', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-wf-redis-'));
    await fs.mkdir(path.join(dir, 'resources'));
    await fs.writeFile(
      path.join(dir, 'resources', 'statestore.yaml'),
      [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: actors',
        'spec:',
        '  type: state.redis',
        '  version: v1',
        '  metadata:',
        `    - { name: redisHost, value: "${REDIS_HOST}" }`,
        // The server has no password: an empty one is what a YAML with a secret left blank has.
        '    - { name: redisPassword, value: "" }',
        '    - { name: actorStateStore, value: "true" }',
        '',
      ].join('\n'),
    );
    const appId = newRedisWorkflowApp('bb');
    const weft = await startWeftSidecar(['--app-id', appId, '--data-dir', path.join(dir, '.weft'), '--resources-path', path.join(dir, 'resources'), '--log-level', 'info']);
    const redis = new Redis({ ...TEST_REDIS, lazyConnect: true });
    try {
      const banner = `workflows: Redis backend in the actor state store "actors" (${TEST_REDIS.host}:${TEST_REDIS.port} db 0)`;
      // The banner is logged as the sidecar reports ready: wait for the line rather than assume it is out.
      await eventually(async () => (weft.output().includes(banner) ? true : undefined), 10_000, 'the banner');
      const started = await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/workflows/dapr/wf/start?instanceID=in-redis`, { method: 'POST' });
      expect(started.status).toBe(202);
      await redis.connect();
      expect(await redis.hget(`weft:wf:{${appId}}:i:in-redis`, 'status')).toBe('PENDING');
      await expect(fs.access(path.join(dir, '.weft', 'workflows.sqlite'))).rejects.toThrow();
    } finally {
      redis.disconnect();
      await weft.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
