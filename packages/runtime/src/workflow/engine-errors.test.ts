/**
 * Errors the engine must surface instead of swallowing (issue 10): an event the store refused, and a
 * failing wake-up query (logged, then retried).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropRedisWorkflowApps, newRedisWorkflowApp, openRedisWorkflowBackend } from '../../../../test/support/redis-workflows.js';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import type { Logger } from '../logging/logger.js';
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
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-errors-'));
    return new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'errors');
  },
  postgres: async () => {
    if (!(await requireService(SERVICES.postgres, 'workflow engine errors on Postgres'))) return undefined;
    return PostgresWorkflowBackend.open(POSTGRES_URL, `errors-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  },
  redis: async () => {
    if (!(await requireService(SERVICES.redis, 'workflow engine errors on Redis'))) return undefined;
    return openRedisWorkflowBackend(newRedisWorkflowApp('errors'));
  },
};
afterAll(() => dropRedisWorkflowApps());

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(Object.keys(backends))('engine errors on %s', (driver) => {
  it('reports an event raised on a finished instance as an error, and an unknown instance as not found', async () => {
    const backend = await backends[driver]!();
    if (!backend) return;
    const e = new WorkflowEngine({ backend, logger: silentLogger() });
    engines.push(e);
    await e.start({ instanceId: 'finished', name: 'wf', input: null });
    await e.terminate('finished', null);
    await expect(e.raiseEvent('finished', 'late', null)).rejects.toMatchObject({ code: 'ERR_RAISE_EVENT_WORKFLOW' });
    await expect(e.raiseEvent('nobody', 'late', null)).resolves.toBe(false);
    await e.start({ instanceId: 'running', name: 'wf', input: null });
    await expect(e.raiseEvent('running', 'ok', null)).resolves.toBe(true);
  });

  it('logs a failing wake-up query and tries it again', async () => {
    const inner = await backends[driver]!();
    if (!inner) return;
    let failures = 0;
    let calls = 0;
    const backend = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'nextWakeAt') {
          return async (now: Date) => {
            calls += 1;
            if (failures < 2) {
              failures += 1;
              throw new Error('connection reset');
            }
            return target.nextWakeAt(now);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger(), warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
    const e = new WorkflowEngine({ backend, logger, pollMs: 50 });
    engines.push(e);
    const sent: WorkItemMessage[] = [];
    e.connect((item) => sent.push(item), () => undefined);
    await until(() => calls >= 3, 'the wake-up query to be retried');
    expect(warnings.filter((w) => w.includes('wake-up') && w.includes('connection reset'))).toHaveLength(2);
    // Dispatch still works afterwards.
    await e.start({ instanceId: 'after', name: 'wf', input: null });
    await until(() => sent.some((m) => 'orchestratorRequest' in m), 'the work item');
  });
});
