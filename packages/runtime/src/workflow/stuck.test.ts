import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS, dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { redisWorkflowPrefix } from './redis-backend.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

const engines: WorkflowEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

/** Deletes an instance's queued activities behind the engine's back (work lost by a defect). */
const loseActivities: Record<string, (instanceId: string) => Promise<void>> = {};

const backends: Record<string, () => Promise<WorkflowBackend | undefined>> = {
  sqlite: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-stuck-'));
    const file = path.join(dir, 'wf.sqlite');
    loseActivities['sqlite'] = async (id) => {
      const db = new Database(file);
      db.prepare('DELETE FROM wf_activities WHERE instance_id = ?').run(id);
      db.close();
    };
    return new SqliteWorkflowBackend(file, 'stuck');
  },
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'stuck workflow instances on Postgres'))) return undefined;
    const appId = `stuck-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    loseActivities['postgres'] = async (id) => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query('DELETE FROM weft_wf_activities WHERE app_id = $1 AND instance_id = $2', [appId, id]);
      await client.end();
    };
    return PostgresWorkflowBackend.open(POSTGRES_URL, appId);
  },
  redis: async () => {
    if (!(await requireService(SERVICES.redis, 'stuck workflow instances on Redis'))) return undefined;
    const appId = newRedisWorkflowApp('stuck');
    const prefix = redisWorkflowPrefix(appId);
    loseActivities['redis'] = async (id) => {
      const client = new Redis({ ...TEST_REDIS });
      // The task hash and both queues (members `<taskId, 10 digits>|<instanceId>`).
      for (const task of await client.hkeys(`${prefix}ai:${id}`)) {
        const member = `${task.padStart(10, '0')}|${id}`;
        await client.zrem(`${prefix}aq`, member);
        await client.zrem(`${prefix}al`, member);
      }
      await client.del(`${prefix}ai:${id}`);
      client.disconnect();
    };
    return openRedisWorkflowBackend(appId);
  },
};
afterAll(() => dropRedisWorkflowApps());

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(Object.keys(backends))('stuck workflow instances on %s', (driver) => {
  it('flags an instance with waiting work and no progress past the threshold, from when it stalled', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const e = new WorkflowEngine({ backend, logger: silentLogger(), stuckAfterMs: 1000 });
    engines.push(e);
    await e.start({ instanceId: 'no-worker', name: 'wf', input: null });
    await e.start({ instanceId: 'suspended', name: 'wf', input: null });
    await e.setSuspended('suspended', true);
    const created = (await e.get('no-worker'))!.createdAt.getTime();
    expect(await e.stuckInstances(new Date(created + 500))).toEqual([]);
    const stuck = await e.stuckInstances(new Date(created + 5000));
    expect(stuck.map((s) => s.instanceId)).toEqual(['no-worker']);
    expect(stuck[0]!.stuckSince.getTime()).toBeGreaterThanOrEqual(created);
    await e.terminate('no-worker', null);
    expect(await e.stuckInstances(new Date(created + 5000))).toEqual([]);
  });

  it('flags an instance whose activity a worker received and never answered', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const e = new WorkflowEngine({ backend, logger: silentLogger(), stuckAfterMs: 1000 });
    engines.push(e);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'wedged', name: 'wf', input: null });
    await until(() => sent.some((m) => 'orchestratorRequest' in m), 'the orchestration work item');
    await e.completeOrchestration('wedged', { actions: [{ id: 1, scheduleTask: { name: 'never-answers', input: null } }] });
    await until(() => sent.some((m) => 'activityRequest' in m), 'the activity work item');
    const stepAt = (await e.get('wedged'))!.lastUpdatedAt.getTime();
    expect(await e.stuckInstances(new Date(stepAt + 500))).toEqual([]);
    expect((await e.stuckInstances(new Date(stepAt + 5000))).map((s) => s.instanceId)).toEqual(['wedged']);
  });

  it('flags a RUNNING instance with nothing pending that waits for work which can no longer arrive, not one waiting for an event', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const e = new WorkflowEngine({ backend, logger: silentLogger(), stuckAfterMs: 1000 });
    engines.push(e);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await e.start({ instanceId: 'lost', name: 'wf', input: null });
    await e.start({ instanceId: 'awaits-event', name: 'wf', input: null });
    const first = (id: string) => sent.some((m) => 'orchestratorRequest' in m && m.orchestratorRequest.instanceId === id);
    await until(() => first('lost') && first('awaits-event'), 'both first orchestration work items');
    await e.completeOrchestration('lost', { actions: [{ id: 1, scheduleTask: { name: 'vanishes', input: null } }] });
    await e.completeOrchestration('awaits-event', { actions: [] });
    await until(() => sent.some((m) => 'activityRequest' in m), 'the activity work item');
    await loseActivities[driver]!('lost');
    const stepAt = Math.max((await e.get('lost'))!.lastUpdatedAt.getTime(), (await e.get('awaits-event'))!.lastUpdatedAt.getTime());
    expect((await e.get('lost'))?.status).toBe('RUNNING');
    expect(await e.stuckInstances(new Date(stepAt + 500))).toEqual([]);
    const stuck = await e.stuckInstances(new Date(stepAt + 5000));
    expect(stuck.map((s) => s.instanceId)).toEqual(['lost']);
    expect(e.stuckSnapshotMap.has('lost')).toBe(true);
  });
});

describe('the stuck scan over many instances waiting for events', () => {
  it('reads each history once while the instance is unchanged, and lets other work run during the scan', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-stuck-many-'));
    const file = path.join(dir, 'wf.sqlite');
    const backend = new SqliteWorkflowBackend(file, 'many');
    // 120 RUNNING instances that wait for an external event: nothing pending, nothing open in their history.
    const db = new Database(file);
    const old = Date.now() - 3_600_000;
    const insert = db.prepare(`INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, created_at, updated_at) VALUES ('many', ?, 'w', 'RUNNING', 'x', ?, ?)`);
    for (let i = 0; i < 120; i++) insert.run(`wait-${i}`, old, old);
    db.close();
    let reads = 0;
    const read = backend.getHistory.bind(backend);
    backend.getHistory = async (id: string) => {
      reads++;
      return read(id);
    };
    // Ten minutes: the periodic scan (every 15 s then) stays out of this test's own scans.
    const e = new WorkflowEngine({ backend, logger: silentLogger(), stuckAfterMs: 600_000 });
    engines.push(e);
    let ranDuringScan = false;
    const scan = e.stuckInstances();
    setImmediate(() => (ranDuringScan = reads > 0 && reads < 120));
    expect(await scan).toEqual([]);
    expect(reads).toBe(120);
    expect(ranDuringScan).toBe(true);
    expect(await e.stuckInstances()).toEqual([]);
    expect(reads).toBe(120);
    // A change makes the next scan read that history again.
    const db2 = new Database(file);
    db2.prepare(`UPDATE wf_instances SET updated_at = ? WHERE instance_id = 'wait-7'`).run(old + 1);
    db2.close();
    await e.stuckInstances();
    expect(reads).toBe(121);
  });
});
