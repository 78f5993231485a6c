/**
 * The admin API's workflow routes over a real engine and SQLite store: exact counts per status under
 * the list filters (no cap), and the status × name health overview with its percentiles and window.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateBlock } from '../blocks/state/state-block.js';
import type { ComponentManager } from '../components/manager.js';
import type { HttpRoute } from '../api/http/types.js';
import { createLogger } from '../logging/logger.js';
import { WorkflowEngine } from '../workflow/engine.js';
import { ev } from '../workflow/history.js';
import { SqliteWorkflowBackend } from '../workflow/sqlite-backend.js';
import { ADMIN_PREFIX, adminRoutes } from './admin-routes.js';
import { PubSubTraffic } from './pubsub-traffic.js';
import { healthOverview, percentile } from './workflow-health.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-admin-wf-'));
const file = path.join(dir, 'workflows.sqlite');
let engine: WorkflowEngine;
let routes: HttpRoute[];

async function call(name: string, query = '', withEngine = true): Promise<{ status: number; json: unknown }> {
  const list = withEngine ? routes : adminRoutes({ appId: 'app', startedAt: new Date(), state: {} as StateBlock, components: {} as ComponentManager, traffic: new PubSubTraffic(1) });
  const route = list.find((r) => r.path === `${ADMIN_PREFIX}/workflows/${name}`)!;
  try {
    const reply = await route.handler({ method: 'GET', path: route.path, params: {}, query: new URLSearchParams(query), headers: {}, body: Buffer.alloc(0) });
    return { status: reply.status, json: reply.json };
  } catch (err) {
    const e = err as { httpStatus?: number; code?: string };
    return { status: e.httpStatus ?? 0, json: { errorCode: e.code } };
  }
}

describe('admin workflow routes', () => {
  const now = Date.now();
  beforeAll(async () => {
    const backend = new SqliteWorkflowBackend(file, 'app');
    // 60,001 instances: above the old paging cap of 50,000, so a capped count would show.
    const db = new Database(file);
    const insert = db.prepare(
      `INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, created_at, updated_at) VALUES ('app', ?, ?, ?, 'x', ?, ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < 60_000; i++) insert.run(`old-${i}`, 'old', i % 4 === 0 ? 'FAILED' : 'COMPLETED', now - 86_400_000 * 2, now - 86_400_000 * 2 + 10);
      // Within the last hour: 'pay' completed in 1..100 s, one 'pay' running for ~50 s.
      for (let i = 1; i <= 100; i++) insert.run(`pay-${i}`, 'pay', 'COMPLETED', now - 600_000, now - 600_000 + i * 1000);
    })();
    db.close();
    await backend.createInstance({
      instanceId: 'live', name: 'pay', input: null, executionId: 'x', createdAt: new Date(now - 50_000),
      scheduledStartAt: null, parentInstanceId: null, parentTaskId: null, startEvent: ev.executionStarted('live', 'pay', null, { at: new Date(now - 50_000) }),
    });
    engine = new WorkflowEngine({ backend, logger: createLogger({ level: 'error' }) });
    routes = adminRoutes({ appId: 'app', startedAt: new Date(), state: {} as StateBlock, components: {} as ComponentManager, traffic: new PubSubTraffic(1), workflows: engine });
  }, 60_000);
  afterAll(() => engine?.close());

  it('counts every instance per status exactly, beyond 50,000, under the filters', async () => {
    expect(await call('counts')).toEqual({ status: 200, json: { counts: { COMPLETED: 45_100, FAILED: 15_000, PENDING: 1 }, total: 60_101 } });
    expect((await call('counts', 'name=pay')).json).toEqual({ counts: { COMPLETED: 100, PENDING: 1 }, total: 101 });
    expect((await call('counts', 'idPrefix=pay-1')).json).toEqual({ counts: { COMPLETED: 12 }, total: 12 });
    expect((await call('counts', 'status=bogus')).status).toBe(400);
  });

  it('gives p50/p90/p99 per status and workflow name over the last hour', async () => {
    const { status, json } = await call('health');
    expect(status).toBe(200);
    const body = json as ReturnType<typeof healthOverview>;
    expect(body.windowSeconds).toBe(3600);
    // 'old' finished two days ago: outside the window.
    expect(body.rows.map((r) => `${r.name}/${r.status}`)).toEqual(['pay/COMPLETED', 'pay/PENDING']);
    expect(body.rows[0]).toEqual({ name: 'pay', status: 'COMPLETED', count: 100, p50Ms: 50_000, p90Ms: 90_000, p99Ms: 99_000, maxMs: 100_000 });
    // Unfinished: its age so far.
    expect(body.rows[1]!.count).toBe(1);
    expect(body.rows[1]!.p50Ms).toBeGreaterThanOrEqual(50_000);
    expect((await call('health', 'windowSeconds=604800')).json).toMatchObject({ rows: expect.arrayContaining([expect.objectContaining({ name: 'old', status: 'FAILED', count: 15_000, p99Ms: 10 })]) });
    expect((await call('health', 'windowSeconds=-5')).status).toBe(400);
  });

  it('answers 501 when the sidecar has no workflow engine', async () => {
    expect(await call('counts', '', false)).toEqual({ status: 501, json: { errorCode: 'ERR_ADMIN_WORKFLOWS_UNAVAILABLE' } });
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([1], 99)).toBe(1);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 90)).toBe(4);
    expect(healthOverview([], new Date(0), 60)).toEqual({ since: new Date(-60_000).toISOString(), until: new Date(0).toISOString(), windowSeconds: 60, rows: [] });
  });
});
