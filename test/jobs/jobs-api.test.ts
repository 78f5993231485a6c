/**
 * In-process tier: the Jobs API (`v1.0-alpha1/jobs/{name}`) against a real HTTP app that receives
 * the triggers: fields, errors with Dapr's reason codes, repeats, failure policies, and durability
 * across a sidecar restart on the same data directory.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { eventually } from '../support/subscriber-app.js';

let sidecar: TestSidecar | undefined;
let app: RecordingApp | undefined;
afterEach(async () => {
  await sidecar?.stop();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

const schedule = (s: TestSidecar, name: string, body: unknown) =>
  fetch(`${s.baseUrl}/v1.0-alpha1/jobs/${name}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const getJob = (s: TestSidecar, name: string) => fetch(`${s.baseUrl}/v1.0-alpha1/jobs/${name}`);
const errorCodeOf = async (res: Response) => ((await res.json()) as { errorCode: string }).errorCode;

describe('Jobs API over HTTP', () => {
  it('triggers POST /job/{name} with the job data as JSON, then forgets a one-shot job', async () => {
    app = await startRecordingApp({ '/job/once': { status: 200 } });
    sidecar = await startTestSidecar({ appPort: app.port });
    const res = await schedule(sidecar, 'once', { dueTime: '0s', data: { order: 7, tags: ['a'] } });
    expect(res.status).toBe(204);
    await eventually(() => app!.received('POST', '/job/once').length === 1, 10_000, 'trigger');
    const [trigger] = app.received('POST', '/job/once');
    expect(trigger?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(trigger?.body ?? '')).toEqual({ order: 7, tags: ['a'] });
    await eventually(async () => (await getJob(sidecar!, 'once')).status === 500, 10_000, 'job removed');
    expect(await errorCodeOf(await getJob(sidecar, 'once'))).toBe('DAPR_SCHEDULER_GET_JOB');
  });

  it('returns the stored fields on GET, with data as a protojson Any of google.protobuf.Value', async () => {
    sidecar = await startTestSidecar();
    const body = { schedule: '@every 1h', repeats: 3, dueTime: '1h', ttl: '2h', data: 'hello', failurePolicy: { constant: { interval: '3s', maxRetries: 5 } } };
    expect((await schedule(sidecar, 'later', body)).status).toBe(204);
    const res = await getJob(sidecar, 'later');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'later',
      schedule: '@every 1h',
      repeats: 3,
      dueTime: '1h',
      ttl: '2h',
      data: { '@type': 'type.googleapis.com/google.protobuf.Value', value: 'hello' },
      failurePolicy: { constant: { interval: '3s', maxRetries: 5 } },
    });
    expect((await fetch(`${sidecar.baseUrl}/v1.0-alpha1/jobs/later`, { method: 'DELETE' })).status).toBe(204);
    expect((await getJob(sidecar, 'later')).status).toBe(500);
    expect((await fetch(`${sidecar.baseUrl}/v1.0-alpha1/jobs/never-existed`, { method: 'DELETE' })).status).toBe(204);
  });

  it('answers Dapr reason codes for bad jobs and keeps serving', async () => {
    sidecar = await startTestSidecar();
    const cases: [unknown, number, string][] = [
      [{ data: 1 }, 400, 'DAPR_SCHEDULER_SCHEDULE_EMPTY'],
      [{ name: 'x', schedule: '@every 1s' }, 400, 'DAPR_SCHEDULER_JOB_NAME'],
      [{ schedule: 'not a cron' }, 400, 'DAPR_SCHEDULER_SCHEDULE_JOB'],
      [{ dueTime: 'tomorrow-ish' }, 400, 'DAPR_SCHEDULER_SCHEDULE_JOB'],
      ['{broken', 400, 'ERR_MALFORMED_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const res = await schedule(sidecar, 'bad', body);
      expect({ body, status: res.status, code: await errorCodeOf(res) }).toEqual({ body, status, code });
    }
    expect((await fetch(`${sidecar.baseUrl}/v1.0/healthz`)).status).toBe(204);
  });

  it('refuses to replace an existing job unless overwrite is true', async () => {
    sidecar = await startTestSidecar();
    expect((await schedule(sidecar, 'dup', { schedule: '@every 1h' })).status).toBe(204);
    const again = await schedule(sidecar, 'dup', { schedule: '@every 2h' });
    expect(again.status).toBe(409);
    expect(await errorCodeOf(again)).toBe('DAPR_SCHEDULER_SCHEDULE_JOB');
    expect((await schedule(sidecar, 'dup', { schedule: '@every 2h', overwrite: true })).status).toBe(204);
    expect(((await (await getJob(sidecar, 'dup')).json()) as { schedule: string }).schedule).toBe('@every 2h');
  });

  it('fires a recurring job exactly `repeats` times', async () => {
    app = await startRecordingApp({ '/job/twice': { status: 200 } });
    sidecar = await startTestSidecar({ appPort: app.port });
    expect((await schedule(sidecar, 'twice', { schedule: '@every 1s', repeats: 2 })).status).toBe(204);
    await eventually(async () => (await getJob(sidecar!, 'twice')).status === 500, 15_000, 'job finished');
    expect(app.received('POST', '/job/twice')).toHaveLength(2);
  });
});

describe('job failure policies', () => {
  it('attempts a failing trigger 4 times by default', async () => {
    app = await startRecordingApp({ '/job/flaky': { status: 500 } });
    sidecar = await startTestSidecar({ appPort: app.port });
    await schedule(sidecar, 'flaky', { dueTime: '0s' });
    await eventually(async () => (await getJob(sidecar!, 'flaky')).status === 500, 20_000, 'job given up');
    expect(app.received('POST', '/job/flaky')).toHaveLength(4);
  });

  it('attempts once with drop, and 1 + maxRetries times with constant', async () => {
    app = await startRecordingApp({ '/job/dropped': { status: 500 }, '/job/retried': { status: 503 } });
    sidecar = await startTestSidecar({ appPort: app.port });
    await schedule(sidecar, 'dropped', { dueTime: '0s', failurePolicy: { drop: {} } });
    await schedule(sidecar, 'retried', { dueTime: '0s', failurePolicy: { constant: { interval: '0.05s', maxRetries: 2 } } });
    await eventually(async () => (await getJob(sidecar!, 'dropped')).status === 500 && (await getJob(sidecar!, 'retried')).status === 500, 15_000, 'both done');
    expect(app.received('POST', '/job/dropped')).toHaveLength(1);
    expect(app.received('POST', '/job/retried')).toHaveLength(3);
  });
});

describe('job durability', () => {
  it('fires once, on restart, a job that fell due while the sidecar was down', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-jobs-'));
    try {
      const first = await startTestSidecar({ dataDir });
      // Due now, then hourly: the app is not there, so the trigger waits in the store.
      expect((await schedule(first, 'survivor', { schedule: '@every 1h', dueTime: '0s', data: { n: 1 } })).status).toBe(204);
      await first.stop();
      await expect(fs.stat(path.join(dataDir, 'jobs.sqlite'))).resolves.toBeTruthy();

      app = await startRecordingApp({ '/job/survivor': { status: 200 } });
      sidecar = await startTestSidecar({ dataDir, appPort: app.port });
      await eventually(() => app!.received('POST', '/job/survivor').length === 1, 10_000, 'trigger after restart');
      expect(JSON.parse(app.received('POST', '/job/survivor')[0]?.body ?? '')).toEqual({ n: 1 });
      // Still scheduled (hourly), not fired again.
      expect((await getJob(sidecar, 'survivor')).status).toBe(200);
      expect(app.received('POST', '/job/survivor')).toHaveLength(1);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
