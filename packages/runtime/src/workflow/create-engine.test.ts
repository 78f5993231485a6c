import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ComponentManager } from '../components/manager.js';
import { silentLogger } from '../logging/logger.js';
import { resolveEngineSettings } from '../config/engine-settings.js';
import { createWorkflowEngine } from './create-engine.js';
import type { WorkflowEngine } from './engine.js';

const dirs: string[] = [];
const engines: WorkflowEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

async function create(env: Record<string, string>): Promise<WorkflowEngine> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-engine-'));
  dirs.push(dataDir);
  const components = { ofKind: () => [] } as unknown as ComponentManager;
  const engine = await createWorkflowEngine({ appId: 'durations', dataDir, components, settings: resolveEngineSettings({ env }), logger: silentLogger() });
  engines.push(engine);
  return engine;
}

describe('workflow engine duration settings', () => {
  it('accepts Go durations and days in every duration setting', async () => {
    await expect(create({ WEFT_WORKFLOW_RETENTION: '1h30m', WEFT_WORKFLOW_STUCK_AFTER: '7d', WEFT_WORKFLOW_REDELIVER_AFTER: '1.5h' })).resolves.toBeDefined();
    await expect(create({ WEFT_WORKFLOW_RETENTION: '7d', WEFT_WORKFLOW_STUCK_AFTER: '2h45m10s', WEFT_WORKFLOW_REDELIVER_AFTER: '300ms' })).resolves.toBeDefined();
  });

  it('refuses a malformed duration with an error naming the setting', async () => {
    await expect(create({ WEFT_WORKFLOW_STUCK_AFTER: 'soon' })).rejects.toThrow(/invalid setting WEFT_WORKFLOW_STUCK_AFTER: expected a duration/);
    await expect(create({ WEFT_WORKFLOW_RETENTION: 'a week' })).rejects.toThrow(/invalid setting WEFT_WORKFLOW_RETENTION: expected a duration/);
  });
});
