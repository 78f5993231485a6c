/** The shared pull loop: claims a backlog in batches, not one claim per freed slot. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/logger.js';
import type { ClaimedMessage } from './pull-consumer.js';
import { PullConsumer } from './pull-consumer.js';

describe('PullConsumer', () => {
  it('works through a backlog with a few claims of many messages each, acking every message once', async () => {
    let backlog = 256;
    let claims = 0;
    const acked: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const consumer = new PullConsumer({
      concurrency: 16,
      pollIntervalMs: 60_000, // only wake-ups drive the loop here
      logger: silentLogger(),
      handler: async () => 'ack',
      claim: async (max) => {
        claims++;
        const n = Math.min(max, backlog);
        return Array.from({ length: n }, (): ClaimedMessage => {
          const id = backlog--;
          return {
            message: { topic: 't', data: Buffer.from(String(id)), metadata: {} },
            ack: async () => {
              acked.push(id);
              if (acked.length === 256) done();
            },
            retry: async () => undefined,
          };
        });
      },
    });
    consumer.start();
    await finished;
    await consumer.close();
    expect(new Set(acked).size).toBe(256);
    // One claim per freed slot would be 256; batches of at least a quarter of the slots are at most 64.
    expect(claims).toBeLessThanOrEqual(256 / 4 + 1);
  });

  it('fills a single free slot beside long-running handlers once a poll interval passed, though wake-ups keep coming', async () => {
    let next = 0;
    const hold: (() => void)[] = [];
    let gotNinth!: () => void;
    const ninth = new Promise<void>((resolve) => (gotNinth = resolve));
    const consumer = new PullConsumer({
      concurrency: 8,
      pollIntervalMs: 300,
      logger: silentLogger(),
      // Message 0 finishes at once; 1-7 run until the test ends; the ninth is the one under test.
      handler: async (m) => {
        const n = Number(m.data.toString());
        if (n === 8) gotNinth();
        if (n >= 1 && n <= 7) await new Promise<void>((resolve) => hold.push(resolve));
        return 'ack';
      },
      claim: async (max) =>
        Array.from({ length: max }, (): ClaimedMessage => ({
          message: { topic: 't', data: Buffer.from(String(next++)), metadata: {} },
          ack: async () => undefined,
          retry: async () => undefined,
        })),
    });
    consumer.start();
    // Publishes elsewhere wake the loop on every turn of the event loop, far more often than the poll.
    let waking = true;
    const wakeAgain = (): void => {
      consumer.wake();
      if (waking) setImmediate(wakeAgain);
    };
    wakeAgain();
    try {
      await ninth;
    } finally {
      waking = false;
      for (const release of hold) release();
      await consumer.close();
    }
  });
});
