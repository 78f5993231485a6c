/**
 * An execution survives a restart of its Weft sidecar: the sidecar is killed (SIGKILL) while a
 * delay task's durable timer is pending, started again on the same ports and data dir, and the
 * execution completes — the app and its gRPC stream stay up throughout.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../../../test/support/weft-process.js';
import type { ExecutionUpdate } from '../src/grpc/proto.js';
import { collect, startStack, uniqueName, waitFor } from './support.js';
import type { Stack } from './support.js';

const exec = promisify(execFile);

describe('an execution across a sidecar restart (embedded Postgres)', () => {
  let stack: Stack;
  let failed = false;
  beforeAll(async () => {
    stack = await startStack({ kind: 'embedded' });
  }, 180_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    if (failed) console.error(stack?.logs());
    await stack?.stop();
  });

  it('completes after the sidecar is killed during a delay task and started again on the same data', async () => {
    const created = await stack.api('POST', '/workflows', {
      name: uniqueName('restart'),
      tasks: [
        { name: 'before', sequence: 1, execution_type: 'sync', kind: 'http', config: { app_id: 'task-target', method: 'echo', body: { step: 'before' } } },
        { name: 'wait', sequence: 2, execution_type: 'sync', kind: 'delay', config: { seconds: 4 } },
        { name: 'after', sequence: 3, execution_type: 'sync', kind: 'transform', config: { operation: 'pick', path: 'step', input_from: 'before' } },
      ],
    });
    expect(created.status).toBe(201);
    const workflowId = (created.body as { id: string }).id;

    let resolveWaiting!: (u: ExecutionUpdate) => void;
    const waiting = new Promise<ExecutionUpdate>((r) => (resolveWaiting = r));
    const streamed = collect(stack.client.execute(workflowId), (u) => {
      if (u.task_name === 'wait' && u.status === 'RUNNING') resolveWaiting(u);
    });
    const running = await waiting;
    const executionId = running.execution_id;

    // The timer is pending in the sidecar's store: kill the sidecar outright, then start it again.
    await stack.killSidecar();
    expect(stack.sidecar.child.signalCode).toBe('SIGKILL');
    const killedAt = Date.now();
    expect((await stack.client.status(executionId)).status).toBe('RUNNING');
    await stack.startSidecar();

    const updates = await streamed;
    expect(updates.at(-1)).toMatchObject({ execution_id: executionId, task_id: '', status: 'COMPLETED' });
    const status = await stack.client.status(executionId);
    expect(status.status).toBe('COMPLETED');
    expect(status.tasks.map((t) => [t.name, t.status, t.result_json])).toEqual([
      ['before', 'COMPLETED', '{"step":"before"}'],
      ['wait', 'COMPLETED', '{"waited_seconds":4}'],
      ['after', 'COMPLETED', '"before"'],
    ]);
    // The delay was not cut short by the restart: it ended at least 4 s after it started, and after
    // the sidecar came back.
    const wait = status.tasks[1]!;
    expect(Date.parse(wait.finished_at) - Date.parse(wait.started_at)).toBeGreaterThanOrEqual(4000);
    expect(Date.parse(wait.finished_at)).toBeGreaterThan(killedAt);

    // The engine's own record of the instance agrees (read from the sidecar's data dir).
    const engine = await waitFor('the workflow instance to be COMPLETED in the engine', async () => {
      const { stdout } = await exec(process.execPath, [WEFT_BIN, 'workflow', 'get', executionId, '--app-id', 'workflow-service', '--data-dir', stack.sidecarDataDir], { env: { ...process.env, WEFT_REGISTRY_DIR: stack.registryDir } });
      const instance = JSON.parse(stdout) as { runtimeStatus: string; workflowName: string };
      return instance.runtimeStatus === 'COMPLETED' ? instance : undefined;
    });
    expect(engine.workflowName).toBe('execute_workflow');
  }, 180_000);
});
