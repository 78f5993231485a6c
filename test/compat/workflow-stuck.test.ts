/**
 * Stuck-instance health through an in-process sidecar with a 1s threshold: an instance with work
 * waiting and no worker is flagged in the list extension, counted in `/v1.0/metadata` and in the
 * `weft_workflow_stuck_instances` gauge, while Dapr's GET body stays unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('stuck workflow instances over HTTP', () => {
  let t: TestSidecar;
  beforeAll(async () => {
    t = await startTestSidecar({ appId: 'wf-stuck', metricsPort: 0, env: { WEFT_WORKFLOW_STUCK_AFTER: '1s' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('flags an instance waiting for a worker in the list, the metadata and the gauge, and leaves the GET body as Dapr has it', async () => {
    const started = await json(`${t.baseUrl}/v1.0/workflows/dapr/orders/start?instanceID=waits-1`, { method: 'POST', body: '{}' });
    expect(started.status).toBe(202);

    const listed = await eventually(
      () => json(`${t.baseUrl}/v1.0/workflows/dapr`),
      (r) => (r.body['instances'] as Record<string, unknown>[]).some((i) => i['stuck'] === true),
      'the instance to be listed as stuck',
    );
    const entry = (listed.body['instances'] as Record<string, unknown>[]).find((i) => i['instanceID'] === 'waits-1');
    expect(entry).toMatchObject({ runtimeStatus: 'PENDING', stuck: true });
    expect(Number.isNaN(Date.parse(String(entry?.['stuckSince'])))).toBe(false);

    const got = await json(`${t.baseUrl}/v1.0/workflows/dapr/waits-1`);
    expect(got.body).not.toHaveProperty('stuck');
    expect(got.body).not.toHaveProperty('stuckSince');

    const metadata = await eventually(
      () => json(`${t.baseUrl}/v1.0/metadata`),
      (r) => (r.body['workflows'] as { stuckInstances?: number } | undefined)?.stuckInstances === 1,
      'the metadata to count the stuck instance',
    );
    expect(metadata.body['workflows']).toEqual({ connectedWorkers: 0, stuckInstances: 1 });

    const scrape = await (await fetch(`http://127.0.0.1:${t.sidecar.metricsPort}/metrics`)).text();
    expect(scrape).toMatch(/^weft_workflow_stuck_instances\{app_id="wf-stuck"\} 1$/m);
  });
});
