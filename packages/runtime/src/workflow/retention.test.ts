import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { parseDuration } from '../util/duration.js';
import { WorkflowEngine } from './engine.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

const engines: WorkflowEngine[] = [];

async function engine(): Promise<WorkflowEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-retention-'));
  const e = new WorkflowEngine({ backend: new SqliteWorkflowBackend(path.join(dir, 'wf.sqlite'), 'retention'), logger: silentLogger() });
  engines.push(e);
  return e;
}

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

describe('workflow retention', () => {
  it('purges finished instances older than the retention age and keeps unfinished and recent ones', async () => {
    const e = await engine();
    await e.start({ instanceId: 'old-done', name: 'w', input: null });
    await e.terminate('old-done', null);
    await e.start({ instanceId: 'still-running', name: 'w', input: null });
    const later = new Date(Date.now() + 60_000);
    expect(await e.purgeExpired(120_000, later)).toBe(0);
    expect(await e.purgeExpired(30_000, later)).toBe(1);
    expect(await e.get('old-done')).toBeUndefined();
    expect((await e.get('still-running'))?.status).toBe('PENDING');
  });

  it('reads retention durations with units and rejects malformed ones by name', () => {
    expect(parseDuration('X', '7d')).toBe(7 * 86_400_000);
    expect(parseDuration('X', '1h30m')).toBe(5_400_000);
    expect(parseDuration('X', '90s')).toBe(90_000);
    expect(parseDuration('X', '250', { bareUnitMs: 1 })).toBe(250);
    expect(() => parseDuration('WEFT_WORKFLOW_RETENTION', 'a week')).toThrow(/WEFT_WORKFLOW_RETENTION: expected a duration/);
  });
});
