/** `pubsub.sqlite` in process: WAL checkpoints run off the event loop, and deliveries survive them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../../../../test/support/subscriber-app.js';
import { silentLogger } from '../../../logging/logger.js';
import { SAFETY_NET_PAGES } from '../../../util/sqlite-wal-checkpointer.js';
import { SqlitePubSub } from './sqlite-pubsub.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function open(): Promise<{ pubsub: SqlitePubSub; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-pubsub-sqlite-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pubsub.sqlite');
  const pubsub = new SqlitePubSub();
  await pubsub.init({ connectionString: file }, { name: 'pubsub', appId: 'app', namespace: '', dataDir: path.join(dir, '.weft'), logger: silentLogger(), env: {} });
  cleanups.push(() => pubsub.close());
  return { pubsub, file };
}

describe('pubsub.sqlite', () => {
  it('copies committed pages into the database file from its checkpoint worker, far below the automatic threshold', async () => {
    const { pubsub, file } = await open();
    const before = fs.statSync(file).size;
    const data = Buffer.alloc(8192, 'x');
    await Promise.all(Array.from({ length: 100 }, () => pubsub.publish({ topic: 't', data, metadata: {} })));
    // 100 × 8 KB is a few hundred pages, far from the connection's own threshold (SAFETY_NET_PAGES):
    // only the worker moves them into the database file.
    expect(SAFETY_NET_PAGES).toBeGreaterThan(1000);
    await eventually(() => fs.statSync(file).size > before + 100 * 8192, 15_000, 'the checkpoint');
  });

  it('delivers every event of a backlog, in order with concurrency 1, while checkpoints run beside it', async () => {
    const { pubsub } = await open();
    const count = 300;
    for (let i = 0; i < count; i++) await pubsub.publish({ topic: 'ordered', data: Buffer.from(String(i)), metadata: {} });
    const got: number[] = [];
    await pubsub.subscribe({ topic: 'ordered', group: 'app', concurrency: 1, metadata: {} }, async (m) => {
      got.push(Number(m.data.toString()));
      return 'ack';
    });
    await eventually(() => got.length >= count, 15_000, 'every delivery');
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
  });
});
