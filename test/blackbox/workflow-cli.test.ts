/**
 * `weft workflow` against the store of a running and of a stopped sidecar: list (table, JSON and YAML),
 * get, history, terminate, run and purge.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { WEFT_BIN } from '../support/weft-process.js';
import { startWorkflowSidecar } from '../support/workflow-target.js';

const exec = promisify(execFile);

describe('weft workflow CLI', () => {
  it('lists the instances of a running app and of a stopped one, and manages them', async () => {
    const target = await startWorkflowSidecar('cli-app');
    const weft = async (...args: string[]) =>
      (await exec(process.execPath, [WEFT_BIN, 'workflow', '--app-id', 'cli-app', '--data-dir', target.dataDir, ...args])).stdout;
    try {
      const base = `http://127.0.0.1:${target.sidecar.httpPort}/v1.0/workflows/dapr`;
      for (const id of ['order-1', 'order-2']) expect((await fetch(`${base}/orders/start?instanceID=${id}`, { method: 'POST', body: '{}' })).status).toBe(202);
      const running = await weft('list');
      expect(running).toMatch(/INSTANCE ID\s+WORKFLOW\s+STATUS/);
      expect(running).toMatch(/order-1\s+orders\s+PENDING/);
    } finally {
      await target.stop();
    }
    const listed = JSON.parse(await weft('list', '-o', 'json')) as { instanceID: string; runtimeStatus: string }[];
    expect(listed.map((i) => i.instanceID).sort()).toEqual(['order-1', 'order-2']);
    const listedYaml = parseYaml(await weft('list', '-o', 'yaml')) as { instanceID: string; runtimeStatus: string }[];
    expect(listedYaml).toEqual(listed);
    // No worker ever ran them: with a zero threshold both are waiting with no progress.
    expect(await weft('list', '--stuck-after', '0s')).toMatch(/order-1\s+orders\s+PENDING.*for \d+s/);
    const stuckYaml = parseYaml(await weft('list', '-o', 'yaml', '--stuck-after', '0s')) as { instanceID: string; stuck?: boolean }[];
    expect(stuckYaml.map((i) => i.stuck)).toEqual([true, true]);
    expect(listed.every((i) => !('stuck' in i))).toBe(true);
    await weft('terminate', 'order-1', '-o', '"cancelled"');
    expect(JSON.parse(await weft('get', 'order-1'))).toMatchObject({ runtimeStatus: 'TERMINATED', properties: { 'dapr.workflow.output': '"cancelled"' } });
    expect(await weft('history', 'order-1')).toMatch(/ExecutionTerminated[\s\S]*ExecutionCompleted/);
    expect(await weft('list', '-s', 'TERMINATED')).not.toContain('order-2');
    expect((await weft('run', 'refunds', '-i', 'refund-1', '-x', '{"amount":3}')).trim()).toBe('refund-1');
    expect(await weft('purge', '--all')).toContain('purged 1 instance(s)');
    expect((JSON.parse(await weft('list', '-o', 'json')) as { instanceID: string }[]).map((i) => i.instanceID).sort()).toEqual(['order-2', 'refund-1']);
    await expect(weft('get', 'nope')).rejects.toThrow(/no workflow instance nope/);
  }, 120_000);
});
