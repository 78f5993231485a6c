/**
 * Crash safety of the embedded default pub/sub (`pubsub.sqlite` under the sidecar's data dir, no
 * component configured): the real `weft sidecar` binary, which both accepts the publishes and
 * delivers them to its own app (the benchmark's layout, where a publish and the claim that delivers
 * it share group commits), is killed with SIGKILL as soon as it has answered 204 to every publish,
 * while the app holds the deliveries it got without answering. After a restart on the same data dir
 * every accepted event reaches the app: a 204 means the event is on disk, whatever was in flight.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSubscriberApp } from '../support/subscriber-app.js';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function waitSubscribed(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const meta = (await (await fetch(`${baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    if (meta.subscriptions.length > 0) return;
    if (Date.now() > deadline) throw new Error(`no subscription became active at ${baseUrl}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

it('delivers every event the sidecar accepted after it is killed right after the last 204', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-pubsub-crash-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  const topic = 'orders';
  const app = await startSubscriberApp([{ pubsubname: 'pubsub', topic, route: '/in', metadata: { concurrency: '8' } }], await freePort());
  cleanups.push(() => app.close());
  // Until the kill the app answers nothing: deliveries in flight die unacknowledged with the sidecar.
  let crashed = false;
  app.reply(() => (crashed ? { json: { status: 'SUCCESS' } } : { hang: true }));
  const args = ['--app-id', 'crash-embedded', '--app-port', String(app.port), '--log-level', 'warn'];
  let weft: WeftProcess = await startWeftSidecar(args, { cwd: dir });
  cleanups.push(() => weft.stop());
  await waitSubscribed(`http://127.0.0.1:${weft.httpPort}`);

  const total = 200;
  const statuses = await Promise.all(
    Array.from({ length: total }, (_, n) =>
      fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/publish/pubsub/${topic}`, {
        method: 'POST',
        body: JSON.stringify({ n }),
        headers: { 'content-type': 'application/json' },
      }).then((r) => r.status),
    ),
  );
  weft.child.kill('SIGKILL');
  await weft.stop();
  expect(statuses.every((s) => s === 204)).toBe(true);
  crashed = true;
  const before = app.deliveries.length;

  weft = await startWeftSidecar(args, { cwd: dir });
  cleanups.push(() => weft.stop());
  const delivered = () => new Set(app.deliveries.slice(before).map((d) => (d.body as { data: { n: number } }).data.n));
  await app.waitFor(() => delivered().size === total, 30_000);
  expect([...delivered()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n));
});
