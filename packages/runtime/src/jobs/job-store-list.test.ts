/** `JobStore.list`: the jobs whose name starts with a prefix, on the SQLite store and the real Postgres. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteJobStore } from './job-store.js';
import type { JobStore } from './job-store.js';
import { PostgresJobStore } from './postgres-job-store.js';

const record = (name: string) => ({ spec: { name }, createdAt: 1, nextRunAt: 1, count: 0, attempt: 0 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-job-list-'));
const stores: JobStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['sqlite', () => Promise.resolve(new SqliteJobStore(dir))],
  ['postgres', () => PostgresJobStore.open('postgres://postgres@127.0.0.1:5432/test')],
])('%s job store', (_kind, open) => {
  it('lists the jobs of an app whose name starts with the prefix, in name order, and no others', async () => {
    const store = await open();
    stores.push(store);
    const app = `list-${Math.random().toString(36).slice(2, 10)}`;
    for (const name of ['T||b||r', 'T||a||r', 'T||ä||r', 'U||a||r', 'T|x']) await store.insert(app, record(name), true);
    await store.insert(`${app}-other`, record('T||a||z'), true);
    expect((await store.list(app, 'T||')).map((r) => r.spec.name)).toEqual(['T||a||r', 'T||b||r', 'T||ä||r']);
    expect((await store.list(app, 'T||ä||')).map((r) => r.spec.name)).toEqual(['T||ä||r']);
    expect(await store.list(app, 'V||')).toEqual([]);
    for (const name of ['T||b||r', 'T||a||r', 'T||ä||r', 'U||a||r', 'T|x']) await store.delete(app, name);
    await store.delete(`${app}-other`, 'T||a||z');
  });
});
