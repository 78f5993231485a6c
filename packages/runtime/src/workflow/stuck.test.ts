import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import type { WorkItemMessage } from './dispatcher.js';
import { WorkflowEngine } from './engine.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

const engines: WorkflowEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

const backends: Record<string, () => Promise<WorkflowBackend | undefined>> = {
  sqlite: async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-stuck-'));
    return new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'stuck');
  },
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'stuck workflow instances on Postgres'))) return undefined;
    return PostgresWorkflowBackend.open(POSTGRES_URL, `stuck-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  },
};

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
});
