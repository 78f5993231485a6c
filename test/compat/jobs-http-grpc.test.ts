/**
 * Jobs compatibility against a real `weft sidecar` process. `@dapr/dapr` 3.18 has no jobs client, so
 * the HTTP side uses plain fetch (as the Dapr docs do) and the gRPC side a raw client built from
 * Dapr's own protos. The app is a plain HTTP server receiving `POST /job/{name}`. Also checks that a
 * job that fell due while the process was stopped fires once after it restarts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonToAny } from '../../packages/runtime/src/jobs/any-value.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { eventually } from '../support/subscriber-app.js';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

let dir: string | undefined;
let weft: WeftProcess | undefined;
let app: RecordingApp | undefined;
afterEach(async () => {
  await weft?.stop();
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  weft = undefined;
  app = undefined;
  dir = undefined;
});

async function start(appPort?: number): Promise<WeftProcess> {
  dir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'weft-compat-jobs-'));
  return startWeftSidecar(['--app-id', 'compat-jobs', '--log-level', 'warn', ...(appPort ? ['--app-port', String(appPort)] : [])], { cwd: dir });
}

describe('Jobs API against the weft sidecar process', () => {
  it('schedules over HTTP and the app receives the trigger with the JSON data', async () => {
    app = await startRecordingApp({ '/job/http-job': { status: 200 } });
    weft = await start(app.port);
    const res = await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0-alpha1/jobs/http-job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dueTime: '1s', data: { task: 'reminder', id: 3 } }),
    });
    expect(res.status).toBe(204);
    await eventually(() => app!.received('POST', '/job/http-job').length === 1, 15_000, 'trigger');
    expect(JSON.parse(app.received('POST', '/job/http-job')[0]?.body ?? '')).toEqual({ task: 'reminder', id: 3 });
  });

  it('schedules, reads and deletes over gRPC, with INVALID_ARGUMENT for a job without schedule or dueTime', async () => {
    app = await startRecordingApp({ '/job/grpc-job': { status: 200 } });
    weft = await start(app.port);
    const client = daprGrpcClient(weft.grpcPort);
    try {
      const data = jsonToAny({ via: 'grpc' });
      const scheduled = await client.call('ScheduleJobAlpha1', {
        job: { name: 'grpc-job', schedule: '@every 1h', due_time: '0s', data: { type_url: data.typeUrl, value: data.value } },
      });
      expect(scheduled.error).toBeUndefined();
      await eventually(() => app!.received('POST', '/job/grpc-job').length === 1, 15_000, 'trigger');
      expect(JSON.parse(app.received('POST', '/job/grpc-job')[0]?.body ?? '')).toEqual({ via: 'grpc' });
      const got = await client.call('GetJobAlpha1', { name: 'grpc-job' });
      expect((got.reply?.['job'] as { name: string; schedule: string }).schedule).toBe('@every 1h');
      expect((await client.call('DeleteJobAlpha1', { name: 'grpc-job' })).error).toBeUndefined();
      expect((await client.call('GetJobAlpha1', { name: 'grpc-job' })).error?.code).toBe(13);
      const empty = await client.call('ScheduleJobAlpha1', { job: { name: 'no-schedule' } });
      expect(empty.error?.code).toBe(3);
    } finally {
      client.close();
    }
  });

  it('fires once after a restart a job that fell due while the sidecar process was stopped', async () => {
    weft = await start();
    const res = await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0-alpha1/jobs/wake-up`, {
      method: 'POST',
      body: JSON.stringify({ schedule: '@every 1h', dueTime: '0s', data: 'good morning' }),
    });
    expect(res.status).toBe(204);
    await weft.stop();
    app = await startRecordingApp({ '/job/wake-up': { status: 200 } });
    weft = await start(app.port);
    await eventually(() => app!.received('POST', '/job/wake-up').length === 1, 15_000, 'trigger after restart');
    expect(JSON.parse(app.received('POST', '/job/wake-up')[0]?.body ?? '')).toBe('good morning');
  });
});
