/**
 * `weft workflow rerun`, as `dapr workflow rerun`: through the running app's sidecar (found by app id)
 * and straight on its store with `--data-dir`, with `@dapr/dapr` workers running the instances.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DaprWorkflowClient, WorkflowRuntime } from '@dapr/dapr';
import type { TWorkflow, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const exec = promisify(execFile);

const addOne = async (_: WorkflowActivityContext, n: number): Promise<number> => n + 1;
const threeSteps: TWorkflow = async function* (ctx: WorkflowContext, start: number): AsyncGenerator<unknown, number[], number> {
  const out = [start];
  let value = start;
  for (let i = 0; i < 3; i++) {
    value = yield ctx.callActivity(addOne, value);
    out.push(value);
  }
  return out;
};

describe('weft workflow rerun', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let sidecar: WeftProcess;
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;

  async function weft(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec(process.execPath, [WEFT_BIN, 'workflow', '--app-id', 'rerun-cli', ...args], { cwd: dir, env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  async function finished(start: number): Promise<{ id: string; scheduled: number[] }> {
    const id = await client.scheduleNewWorkflow(threeSteps, start);
    await client.waitForWorkflowCompletion(id, true, 60);
    const history = JSON.parse((await weft('history', id, '-o', 'json')).stdout) as { type: string; eventId: number }[];
    return { id, scheduled: history.filter((e) => e.type === 'TaskScheduled').map((e) => e.eventId) };
  }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-rerun-cli-'));
    env = { ...process.env, WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
    sidecar = await startWeftSidecar(['--app-id', 'rerun-cli', '--data-dir', path.join(dir, 'data')], { env, timeoutMs: 60_000 });
    const options = { daprHost: '127.0.0.1', daprPort: String(sidecar.grpcPort), logger: { level: 0 } };
    runtime = new WorkflowRuntime(options).registerWorkflow(threeSteps).registerActivity(addOne);
    client = new DaprWorkflowClient(options);
    await runtime.start();
  }, 90_000);

  afterAll(async () => {
    await runtime?.stop();
    await client?.stop();
    await sidecar?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reruns from a step with a new input through the running sidecar, printing the new id', async () => {
    const { id, scheduled } = await finished(1);
    const out = await weft('rerun', id, '-e', String(scheduled[1]), '--new-instance-id', `${id}-b`, '-x', '10');
    expect(out).toMatchObject({ code: 0, stdout: `Rerunning workflow instance: ${id}-b\n` });
    expect((await client.waitForWorkflowCompletion(`${id}-b`, true, 60))?.serializedOutput).toBe('[1,2,11,12]');
  });

  it('reruns on the store named by --data-dir with the recorded input; the running sidecar carries it on', async () => {
    const { id, scheduled } = await finished(4);
    const out = await weft('--data-dir', path.join(dir, 'data'), 'rerun', id, '--event-id', String(scheduled[0]));
    expect(out.code).toBe(0);
    const newId = /Rerunning workflow instance: (\S+)/.exec(out.stdout)?.[1] ?? '';
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.waitForWorkflowCompletion(newId, true, 60))?.serializedOutput).toBe('[4,5,6,7]');
  });

  it("fails with daprd's message for an unknown instance, a step that is not there and a bad event id", async () => {
    const unknown = await weft('rerun', 'no-such-instance', '-e', '1');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("workflow instance does not exist with ID 'no-such-instance'");
    const { id } = await finished(1);
    const missing = await weft('rerun', id, '-e', '77');
    expect(missing.stderr).toContain("does not have history event with ID '77'");
    const bad = await weft('rerun', id, '-e', 'two');
    expect(bad.stderr).toContain('--event-id expects a non-negative integer');
    const badInput = await weft('rerun', id, '-e', '1', '-x', '{not json');
    expect(badInput.code).not.toBe(0);
  });
});
