/**
 * The dashboard's instance queries on both SQL backends: exact counts per status under the list
 * filters, keyset paging that visits every instance once (ties on the creation time included),
 * the health overview's window, and — on SQLite, where the plan is deterministic — that the list's
 * first page and the counts read an index, never the whole table.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../test/support/services.js';
import type { WorkflowBackend } from './backend.js';
import { ev } from './history.js';
import { PostgresWorkflowBackend } from './postgres-backend.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import type { WorkflowStatus } from './types.js';

const BASE = Date.UTC(2026, 11, 1);
/** 30 instances: 10 per creation time (ties), names a/b, statuses cycling. */
const STATUSES: WorkflowStatus[] = ['COMPLETED', 'RUNNING', 'FAILED', 'COMPLETED', 'TERMINATED'];
const rows = Array.from({ length: 30 }, (_, i) => ({
  id: `inst-${String(i).padStart(2, '0')}`,
  name: i % 3 === 0 ? 'b' : 'a',
  status: STATUSES[i % STATUSES.length]!,
  createdAt: BASE + Math.floor(i / 10) * 1000,
  // Finished (or last changed) i seconds after creation.
  updatedAt: BASE + Math.floor(i / 10) * 1000 + i * 1000,
}));

async function fill(backend: WorkflowBackend, setRow: (r: (typeof rows)[number]) => Promise<void>): Promise<void> {
  for (const r of rows) {
    await backend.createInstance({
      instanceId: r.id,
      name: r.name,
      input: null,
      executionId: `x-${r.id}`,
      createdAt: new Date(r.createdAt),
      scheduledStartAt: null,
      parentInstanceId: null,
      parentTaskId: null,
      startEvent: ev.executionStarted(r.id, r.name, null, { at: new Date(r.createdAt) }),
    });
    await setRow(r);
  }
}

function expected(filter: (r: (typeof rows)[number]) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows.filter(filter)) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

function contract(label: string, open: () => Promise<{ backend: WorkflowBackend; close: () => Promise<void> }>, enabled = true) {
  describe.skipIf(!enabled)(`instance queries (${label})`, () => {
    let backend: WorkflowBackend;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ backend, close } = await open());
    }, 60_000);
    afterAll(() => close?.());

    it('counts per status exactly, under each list filter', async () => {
      expect(await backend.countInstances({})).toEqual(expected(() => true));
      expect(await backend.countInstances({ name: 'b' })).toEqual(expected((r) => r.name === 'b'));
      expect(await backend.countInstances({ statuses: ['RUNNING', 'FAILED'] })).toEqual(expected((r) => r.status === 'RUNNING' || r.status === 'FAILED'));
      expect(await backend.countInstances({ instanceIdPrefix: 'inst-1' })).toEqual(expected((r) => r.id.startsWith('inst-1')));
      expect(await backend.countInstances({ createdFrom: new Date(BASE + 1000), createdTo: new Date(BASE + 1000) })).toEqual(
        expected((r) => r.createdAt === BASE + 1000),
      );
      expect(await backend.countInstances({ name: 'nobody' })).toEqual({});
    });

    it('pages newest first through every instance once, ties on the creation time included', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await backend.listInstances({}, 7, token);
        seen.push(...page.instances.map((i) => i.instanceId));
        token = page.continuationToken;
      } while (token);
      const order = [...rows].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1)).map((r) => r.id);
      expect(seen).toEqual(order);
      const failed: string[] = [];
      token = undefined;
      do {
        const page = await backend.listInstances({ statuses: ['FAILED'], name: 'a' }, 2, token);
        failed.push(...page.instances.map((i) => i.instanceId));
        token = page.continuationToken;
      } while (token);
      expect(failed.sort()).toEqual(rows.filter((r) => r.status === 'FAILED' && r.name === 'a').map((r) => r.id).sort());
    });

    it('keeps the unfiltered counts (the status counters) exact through terminate, purge, re-creation and folding', async () => {
      const extra = { instanceId: 'extra', name: 'a', input: null, executionId: 'x', createdAt: new Date(BASE), scheduledStartAt: null, parentInstanceId: null, parentTaskId: null };
      const base = expected(() => true);
      await backend.createInstance({ ...extra, startEvent: ev.executionStarted('extra', 'a', null, { at: new Date(BASE) }) });
      expect(await backend.countInstances({})).toEqual({ ...base, PENDING: 1 });
      await backend.terminate('extra', null, new Date(BASE + 1));
      expect(await backend.countInstances({})).toEqual({ ...base, TERMINATED: (base['TERMINATED'] ?? 0) + 1 });
      // A finished instance started again under its id: the old row goes, a PENDING one comes.
      await backend.createInstance({ ...extra, startEvent: ev.executionStarted('extra', 'a', null, { at: new Date(BASE) }) });
      expect(await backend.countInstances({})).toEqual({ ...base, PENDING: 1 });
      await backend.terminate('extra', null, new Date(BASE + 1));
      expect(await backend.purge('extra')).toBe(1);
      await (backend as { foldCounts?: () => Promise<void> }).foldCounts?.();
      expect(await backend.countInstances({})).toEqual(base);
      // The counters agree with counting the rows (a filter that selects everything takes the index path).
      expect(await backend.countInstances({ createdFrom: new Date(0) })).toEqual(base);
    });

    it('returns the instances changed since a time, with their times', async () => {
      const since = BASE + 25_000;
      const recent = await backend.recentInstances(new Date(since));
      const want = rows.filter((r) => r.updatedAt >= since);
      expect(recent.map((r) => r.name + r.status + r.createdAt + ':' + r.updatedAt).sort()).toEqual(
        want.map((r) => r.name + r.status + r.createdAt + ':' + r.updatedAt).sort(),
      );
    });
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-instance-queries-'));
const sqliteFile = path.join(dir, 'workflows.sqlite');

contract('SQLite', async () => {
  const backend = new SqliteWorkflowBackend(sqliteFile, 'app');
  const db = new Database(sqliteFile);
  const set = db.prepare('UPDATE wf_instances SET status = ?, updated_at = ? WHERE app_id = ? AND instance_id = ?');
  await fill(backend, async (r) => void set.run(r.status, r.updatedAt, 'app', r.id));
  db.close();
  return { backend, close: async () => backend.close() };
});

const pgUp = await requireService(SERVICES.postgres, 'workflow instance queries (Postgres)');
const pgApp = `queries-${process.pid}-${Date.now()}`;
contract(
  'Postgres',
  async () => {
    const backend = await PostgresWorkflowBackend.open(POSTGRES_URL, pgApp);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await fill(backend, async (r) => {
      await client.query('UPDATE weft_wf_instances SET status = $1, updated_at = $2 WHERE app_id = $3 AND instance_id = $4', [r.status, r.updatedAt, pgApp, r.id]);
    });
    return {
      backend,
      close: async () => {
        for (const t of ['weft_wf_instances', 'weft_wf_history', 'weft_wf_inbox', 'weft_wf_activities']) await client.query(`DELETE FROM ${t} WHERE app_id = $1`, [pgApp]);
        await client.end();
        await backend.close();
      },
    };
  },
  pgUp,
);

describe('SQLite status counters', () => {
  it('are backfilled exactly when a store from before them is opened', async () => {
    const file = path.join(dir, 'old-store.sqlite');
    await new SqliteWorkflowBackend(file, 'app').close();
    const db = new Database(file);
    // As a store written before the counters existed: no triggers, no counts, rows of two apps.
    db.exec('DROP TRIGGER wf_count_insert; DROP TRIGGER wf_count_delete; DROP TRIGGER wf_count_update; DROP TABLE wf_status_counts');
    const insert = db.prepare(`INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, created_at, updated_at) VALUES (?, ?, 'w', ?, 'x', 1, 1)`);
    for (let i = 0; i < 7; i++) insert.run('app', `i${i}`, i < 5 ? 'COMPLETED' : 'FAILED');
    insert.run('other', 'o1', 'RUNNING');
    db.close();
    const backend = new SqliteWorkflowBackend(file, 'app');
    expect(await backend.countInstances({})).toEqual({ COMPLETED: 5, FAILED: 2 });
    await backend.close();
    const other = new SqliteWorkflowBackend(file, 'other');
    expect(await other.countInstances({})).toEqual({ RUNNING: 1 });
    await other.close();
  });
});

describe('SQLite query plans', () => {
  it('reads the first page, a keyset page, the counts and the recent changes from indexes, never scanning the table', async () => {
    const file = path.join(dir, 'plans.sqlite');
    await new SqliteWorkflowBackend(file, 'app').close();
    const db = new Database(file);
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    const first = plan('SELECT * FROM wf_instances WHERE app_id = ? ORDER BY created_at DESC, instance_id DESC LIMIT 21', 'app');
    const next = plan('SELECT * FROM wf_instances WHERE app_id = ? AND (created_at, instance_id) < (?, ?) ORDER BY created_at DESC, instance_id DESC LIMIT 21', 'app', 1, 'x');
    const byStatus = plan("SELECT * FROM wf_instances WHERE app_id = ? AND status IN ('FAILED') ORDER BY created_at DESC, instance_id DESC LIMIT 21", 'app');
    const counts = plan('SELECT status, COUNT(*) FROM wf_instances WHERE app_id = ? GROUP BY status', 'app');
    const countsByName = plan('SELECT status, COUNT(*) FROM wf_instances WHERE app_id = ? AND name = ? GROUP BY status', 'app', 'a');
    for (const p of [first, next, byStatus]) {
      expect(p).toMatch(/USING INDEX wf_instances_(status_)?page/);
      expect(p).not.toContain('TEMP B-TREE');
    }
    const recent = plan(
      "SELECT name, status, created_at, updated_at FROM wf_instances WHERE app_id = ? AND status IN ('RUNNING', 'COMPLETED', 'FAILED') AND updated_at >= ?",
      'app',
      1,
    );
    expect(recent).toContain('USING COVERING INDEX wf_instances_status_recent');
    expect(counts).toMatch(/USING COVERING INDEX/);
    expect(countsByName).toContain('USING COVERING INDEX wf_instances_name_page');
    for (const p of [first, next, byStatus, counts, countsByName]) expect(p).not.toMatch(/^SCAN wf_instances$|SCAN wf_instances(?! USING)/);
    db.close();
  });
});
