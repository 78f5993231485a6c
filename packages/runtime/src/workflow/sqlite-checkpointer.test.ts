import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { ev } from './history.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SQLite workflow store checkpoints', () => {
  it('copies committed WAL frames into the database file from a worker thread, with the automatic checkpoint only as a far safety net', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-ckpt-'));
    const file = path.join(dir, 'wf.sqlite');
    const backend = new SqliteWorkflowBackend(file, 'ckpt', 5000, silentLogger());
    try {
      const initial = (await fs.stat(file)).size;
      const now = new Date();
      for (let i = 0; i < 400; i++) {
        const instanceId = `i-${i}`;
        await backend.createInstance({
          instanceId, name: 'wf', input: 'x'.repeat(200), executionId: `e-${i}`, createdAt: now, scheduledStartAt: null,
          parentInstanceId: null, parentTaskId: null, startEvent: ev.executionStarted(instanceId, 'wf', null, { executionId: `e-${i}`, at: now }),
        });
      }
      // Only a checkpoint moves pages from the WAL into the database file.
      await until(async () => (await fs.stat(file)).size > initial, 'the database file to grow');
      expect((await backend.listInstances({}, 1000)).instances).toHaveLength(400);
    } finally {
      await backend.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
