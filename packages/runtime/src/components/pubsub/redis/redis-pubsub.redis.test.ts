/**
 * `pubsub.redis` on the real Redis: the shared reader keeps serving every topic when one stream is
 * deleted under it (its consumer group goes with it and the multi-stream read fails until the group
 * is back).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_HOST, SERVICES, requireService } from '../../../../../../test/support/services.js';
import { eventually } from '../../../../../../test/support/subscriber-app.js';
import { silentLogger } from '../../../logging/logger.js';
import { RedisPubSub } from './redis-pubsub.js';

const up = await requireService(SERVICES.redis, 'pubsub.redis driver');
const [host, port] = REDIS_HOST.split(':');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.skipIf(!up)('pubsub.redis shared reader', () => {
  it('keeps delivering on every topic after one stream is deleted, and on the deleted one once it is back', async () => {
    const run = `rd${randomUUID().slice(0, 8)}`;
    const [a, b] = [`${run}-a`, `${run}-b`];
    const redis = new Redis({ host, port: Number(port ?? 6379) });
    cleanups.push(async () => {
      await redis.del(a, b);
      redis.disconnect();
    });
    const pubsub = new RedisPubSub();
    await pubsub.init({ redisHost: REDIS_HOST, blockTimeout: '200ms' }, { name: 'ps', appId: run, namespace: '', dataDir: '/nonexistent', logger: silentLogger(), env: {} });
    cleanups.push(() => pubsub.close());
    const got: string[] = [];
    for (const topic of [a, b]) {
      await pubsub.subscribe({ topic, group: run, concurrency: 2, metadata: {} }, async (m) => {
        got.push(`${m.topic}:${m.data.toString()}`);
        return 'ack';
      });
    }
    await pubsub.publish({ topic: a, data: Buffer.from('1'), metadata: {} });
    await eventually(() => got.length === 1, 5_000, 'the first event');
    await redis.del(a);
    await pubsub.publish({ topic: b, data: Buffer.from('2'), metadata: {} });
    await eventually(() => got.includes(`${b}:2`), 5_000, 'the event on the other topic');
    await eventually(async () => (await redis.exists(a)) === 1, 5_000, 'the deleted stream and its group back');
    await pubsub.publish({ topic: a, data: Buffer.from('3'), metadata: {} });
    await eventually(() => got.includes(`${a}:3`), 5_000, 'the event on the recreated stream');
    expect(got).toEqual([`${a}:1`, `${b}:2`, `${a}:3`]);
  });
});
