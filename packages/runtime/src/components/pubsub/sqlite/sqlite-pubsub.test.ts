/** `pubsub.sqlite` in process: WAL checkpoints run off the event loop, and deliveries survive them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
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

  it('commits the acks of many deliveries (batched into one statement per turn) and redelivers a message handed back among them', async () => {
    const { pubsub, file } = await open();
    const count = 200;
    const seen = new Map<string, number>();
    await pubsub.subscribe({ topic: 'acks', group: 'app', concurrency: 50, metadata: {} }, async (m) => {
      const n = m.data.toString();
      seen.set(n, (seen.get(n) ?? 0) + 1);
      // One message is handed back once: it must come again although fresh messages keep the claims busy.
      return n === '7' && seen.get(n) === 1 ? 'retry' : 'ack';
    });
    await Promise.all(Array.from({ length: count }, (_, i) => pubsub.publish({ topic: 'acks', data: Buffer.from(String(i)), metadata: {} })));
    await eventually(() => seen.size === count && seen.get('7') === 2, 15_000, 'every delivery and the redelivery');
    const reader = new Database(file, { readonly: true });
    try {
      await eventually(() => (reader.prepare('SELECT COUNT(*) AS n FROM pubsub_pending').get() as { n: number }).n === 0, 15_000, 'every ack committed');
    } finally {
      reader.close();
    }
  });
});
