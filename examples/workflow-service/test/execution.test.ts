/**
 * Executions end to end on the embedded path (PGlite, in-process cache), through the real `weft`
 * sidecar and the gRPC API: parallel async tasks, sequencing, a failing task, errors, idempotent
 * starts, and the client script.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, REDIS_HOST, SERVICES, requireService } from '../../../test/support/services.js';
import type { ExecutionUpdate } from '../src/grpc/proto.js';
import { EXAMPLE_DIR, TSX_LOADER, collect, startStack, uniqueName } from './support.js';
import type { Stack } from './support.js';

const exec = promisify(execFile);

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const schema = `wfsvc_exec_${runId}`;

const variants = [
  { name: 'PostgreSQL + Redis, workflow state in PostgreSQL', production: true },
  { name: 'embedded PGlite, workflow state in SQLite', production: false },
];

describe.each(variants)('workflow executions over gRPC ($name)', ({ production }) => {
  let stack: Stack;
  let enabled = true;
  beforeAll(async () => {
    if (!production) {
      stack = await startStack({ kind: 'embedded' });
      return;
    }
    enabled = (await requireService(SERVICES.postgres, 'workflow-service executions')) && (await requireService(SERVICES.redis, 'workflow-service executions'));
    if (!enabled) return;
    // Components of components/production: the engine's tables are shared, keyed by app id, so
    // the app id is this run's own.
    stack = await startStack(
      { kind: 'postgres', databaseUrl: POSTGRES_URL, schema, redisUrl: `redis://${REDIS_HOST}`, redisPrefix: `wfsvc-exec-${runId}:`, workflowStateUrl: POSTGRES_URL },
      {},
      `workflow-service-${runId}`,
    );
  }, 180_000);
  let failed = false;
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    if (failed) console.error(stack?.logs());
    await stack?.stop();
    if (production && enabled) {
      const db = new pg.Client({ connectionString: POSTGRES_URL });
      await db.connect();
      await db.query(`drop schema if exists ${schema} cascade`);
      await db.end();
      const redis = new Redis(`redis://${REDIS_HOST}`);
      const keys = await redis.keys(`wfsvc-exec-${runId}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  const create = async (tasks: unknown[]) => {
    const res = await stack.api('POST', '/workflows', { name: uniqueName('wf'), tasks });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; tasks: { id: string; name: string }[] };
  };
  const of = (updates: ExecutionUpdate[], task: string) => updates.filter((u) => u.task_name === task);
  const at = (updates: ExecutionUpdate[], task: string, status: string) => {
    const u = updates.find((x) => x.task_name === task && x.status === status);
    if (!u) throw new Error(`no ${status} update for ${task}: ${JSON.stringify(updates)}`);
    return Date.parse(u.timestamp);
  };

  it('streams PENDING, RUNNING and COMPLETED for each task and the workflow, running async tasks of one sequence in parallel', async ({ skip }) => {
    if (!enabled) skip();
    const wf = await create([
      { name: 'slow_a', sequence: 1, execution_type: 'async', kind: 'http', config: { app_id: 'task-target', method: 'sleep?ms=2000' } },
      { name: 'slow_b', sequence: 1, execution_type: 'async', kind: 'http', config: { app_id: 'task-target', method: 'sleep?ms=2000' } },
      { name: 'greet', sequence: 2, execution_type: 'sync', kind: 'http', config: { app_id: 'task-target', method: 'greet', body: { name: 'Ann' } } },
      { name: 'shout', sequence: 3, execution_type: 'sync', kind: 'transform', config: { operation: 'template', template: '{{greeting}}!', input_from: 'greet' } },
      { name: 'upper', sequence: 4, execution_type: 'sync', kind: 'transform', config: { operation: 'uppercase', input_from: 'shout' } },
    ]);
    const updates = await collect(stack.client.execute(wf.id));
    const executionId = updates[0]!.execution_id;

    // The workflow's own updates frame the stream.
    expect(updates[0]).toMatchObject({ task_id: '', status: 'PENDING', workflow_id: wf.id });
    expect(updates.at(-1)).toMatchObject({ task_id: '', status: 'COMPLETED' });
    expect(updates.filter((u) => u.task_id === '').map((u) => u.status)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    for (const name of ['slow_a', 'slow_b', 'greet', 'shout', 'upper']) expect(of(updates, name).map((u) => u.status)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    // Sequence numbers increase, every update belongs to this execution.
    expect(updates.every((u, i) => i === 0 || Number(u.sequence_number) > Number(updates[i - 1]!.sequence_number))).toBe(true);
    expect(new Set(updates.map((u) => u.execution_id))).toEqual(new Set([executionId]));

    // The two async tasks overlap: each started before the other finished (recorded times)...
    expect(at(updates, 'slow_a', 'RUNNING')).toBeLessThan(at(updates, 'slow_b', 'COMPLETED'));
    expect(at(updates, 'slow_b', 'RUNNING')).toBeLessThan(at(updates, 'slow_a', 'COMPLETED'));
    // ...and the target app saw both requests in flight at once (its own clock).
    const a = JSON.parse(of(updates, 'slow_a').at(-1)!.result_json) as { started_at: string; finished_at: string };
    const b = JSON.parse(of(updates, 'slow_b').at(-1)!.result_json) as { started_at: string; finished_at: string };
    expect(Date.parse(a.started_at)).toBeLessThan(Date.parse(b.finished_at));
    expect(Date.parse(b.started_at)).toBeLessThan(Date.parse(a.finished_at));
    // Later sequences start only after the earlier ones finished.
    expect(at(updates, 'greet', 'RUNNING')).toBeGreaterThanOrEqual(Math.max(at(updates, 'slow_a', 'COMPLETED'), at(updates, 'slow_b', 'COMPLETED')));
    expect(at(updates, 'shout', 'RUNNING')).toBeGreaterThanOrEqual(at(updates, 'greet', 'COMPLETED'));
    expect(of(updates, 'upper').at(-1)!.result_json).toBe('"HELLO, ANN!"');

    // The same run, queried: gRPC status, REST history and per-task results.
    const status = await stack.client.status(executionId);
    expect(status).toMatchObject({ execution_id: executionId, workflow_id: wf.id, status: 'COMPLETED', error: '' });
    expect(status.tasks.map((t) => [t.name, t.status])).toEqual(['slow_a', 'slow_b', 'greet', 'shout', 'upper'].map((n) => [n, 'COMPLETED']));
    expect(status.tasks.find((t) => t.name === 'greet')!.result_json).toBe('{"greeting":"Hello, Ann"}');
    const rest = await stack.api('GET', `/executions/${executionId}`);
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ status: 'COMPLETED', tasks: expect.arrayContaining([expect.objectContaining({ name: 'shout', result: 'Hello, Ann!', attempts: 1 })]) });
    const events = await stack.api('GET', `/executions/${executionId}/events`);
    expect((events.body as unknown[]).length).toBe(updates.length);
    const history = await stack.api('GET', `/workflows/${wf.id}/executions`);
    expect(history.body).toEqual([expect.objectContaining({ id: executionId, status: 'COMPLETED' })]);
    // WatchExecution replays the finished run.
    expect((await collect(stack.client.watch(executionId))).map((u) => u.sequence_number)).toEqual(updates.map((u) => u.sequence_number));
  }, 120_000);

  it('marks the execution FAILED when a task fails, and does not run the tasks after it', async ({ skip }) => {
    if (!enabled) skip();
    const wf = await create([
      { name: 'ok', sequence: 1, execution_type: 'sync', kind: 'transform', config: { operation: 'sum', input: [1, 2, 3] } },
      { name: 'broken', sequence: 2, execution_type: 'sync', kind: 'http', config: { app_id: 'task-target', method: 'status/503' } },
      { name: 'never', sequence: 3, execution_type: 'sync', kind: 'transform', config: { operation: 'length', input: 'abc' } },
    ]);
    const updates = await collect(stack.client.execute(wf.id));
    const final = updates.at(-1)!;
    expect(final).toMatchObject({ task_id: '', status: 'FAILED' });
    expect(final.message).toMatch(/task "broken" failed: POST task-target\/status\/503 answered 503/);
    expect(of(updates, 'broken').map((u) => u.status)).toEqual(['PENDING', 'RUNNING', 'FAILED']);
    expect(of(updates, 'never').map((u) => u.status)).toEqual(['PENDING']);
    const status = await stack.client.status(final.execution_id);
    expect(status.status).toBe('FAILED');
    expect(status.tasks.map((t) => [t.name, t.status])).toEqual([
      ['ok', 'COMPLETED'],
      ['broken', 'FAILED'],
      ['never', 'PENDING'],
    ]);
    expect(status.tasks[0]!.result_json).toBe('6');
    expect(status.tasks[1]!.error).toMatch(/answered 503/);
  }, 120_000);

  it('fails an execution whose transform gets input it cannot handle, with a message naming the task', async ({ skip }) => {
    if (!enabled) skip();
    const wf = await create([
      { name: 'add', sequence: 1, execution_type: 'async', kind: 'transform', config: { operation: 'sum', input: ['a', 'b'] } },
      { name: 'wait', sequence: 1, execution_type: 'async', kind: 'delay', config: { seconds: 1 } },
    ]);
    const updates = await collect(stack.client.execute(wf.id));
    expect(updates.at(-1)).toMatchObject({ task_id: '', status: 'FAILED', message: expect.stringMatching(/task "add" failed: "sum" needs an array of numbers, got \["a","b"\]/) });
  }, 120_000);

  it('answers NOT_FOUND, INVALID_ARGUMENT and FAILED_PRECONDITION for executions that cannot start', async ({ skip }) => {
    if (!enabled) skip();
    const codeOf = async (stream: AsyncIterable<ExecutionUpdate>) => {
      try {
        await collect(stream);
        return 'OK';
      } catch (err) {
        return (err as { code: number; details: string }).code + ' ' + (err as { details: string }).details;
      }
    };
    expect(await codeOf(stack.client.execute('6f1d2c3b-0000-4000-8000-000000000000'))).toMatch(/^5 workflow 6f1d2c3b-0000-4000-8000-000000000000 not found/);
    expect(await codeOf(stack.client.execute('nope'))).toMatch(/^3 workflow_id must be a UUID/);
    const empty = await create([]);
    expect(await codeOf(stack.client.execute(empty.id))).toMatch(/^9 workflow .* has no tasks/);
    const dangling = await create([{ name: 'up', sequence: 1, execution_type: 'sync', kind: 'transform', config: { operation: 'uppercase', input_from: 'missing' } }]);
    expect(await codeOf(stack.client.execute(dangling.id))).toMatch(/^9 task "up" takes its input from "missing"/);
    await expect(stack.client.status('6f1d2c3b-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 5 });
  }, 60_000);

  it('starts one execution per request id and replays it for a retried request', async ({ skip }) => {
    if (!enabled) skip();
    const wf = await create([{ name: 'one', sequence: 1, execution_type: 'sync', kind: 'transform', config: { operation: 'reverse', input: 'abc' } }]);
    const requestId = uniqueName('req');
    const first = await collect(stack.client.execute(wf.id, requestId));
    const second = await collect(stack.client.execute(wf.id, requestId));
    expect(second.map((u) => [u.execution_id, u.sequence_number, u.status])).toEqual(first.map((u) => [u.execution_id, u.sequence_number, u.status]));
    expect((await stack.api('GET', `/workflows/${wf.id}/executions`)).body).toHaveLength(1);
  }, 60_000);

  it('runs the demo with the client script', async ({ skip }) => {
    if (!enabled) skip();
    const { stdout } = await exec(process.execPath, ['--import', TSX_LOADER, path.join(EXAMPLE_DIR, 'src/client.ts'), 'demo'], {
      env: { ...process.env, API_URL: stack.apiUrl, GRPC_ADDRESS: stack.grpcAddress },
      timeout: 90_000,
    });
    expect(stdout).toMatch(/task shout\s+COMPLETED\s+→ "HELLO, WEFT"/);
    expect(stdout).toMatch(/workflow\s+COMPLETED/);
    const executionId = /execution ([0-9a-f-]{36})/.exec(stdout)![1]!;
    const status = await exec(process.execPath, ['--import', TSX_LOADER, path.join(EXAMPLE_DIR, 'src/client.ts'), 'status', executionId], { env: { ...process.env, GRPC_ADDRESS: stack.grpcAddress } });
    expect(JSON.parse(status.stdout)).toMatchObject({ execution_id: executionId, status: 'COMPLETED' });
  }, 120_000);
});
