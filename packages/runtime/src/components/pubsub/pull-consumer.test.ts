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
});
