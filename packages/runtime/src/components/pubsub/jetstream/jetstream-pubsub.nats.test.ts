/**
 * The JetStream driver on the real NATS server: messages are pulled only for free delivery slots, so
 * with a slow app none waits in process past `ackWait` and comes back as a duplicate; `maxAckPending`
 * is validated and set on the durable consumer (also on one that already exists).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageType, connect } from 'nats';
import type { ConsumerInfo, JetStreamManager, NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVICES, requireService } from '../../../../../../test/support/services.js';
import { silentLogger } from '../../../logging/logger.js';
import type { MetadataProperties } from '../../metadata.js';
import type { MessageHandler } from '../store.js';
import { JetStreamPubSub } from './jetstream-pubsub.js';

const up = await requireService(SERVICES.nats, 'JetStream pub/sub driver');
const NATS_URL = `nats://${SERVICES.nats.host}:${SERVICES.nats.port}`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A stream of its own (memory storage) for one test, and a manager to inspect its consumer. */
async function setUp(): Promise<{ nc: NatsConnection; jsm: JetStreamManager; topic: string; stream: string }> {
  const nc = await connect({ servers: NATS_URL });
  const topic = `weft-jsdriver-${randomUUID()}`;
  const stream = topic.replace(/-/g, '_');
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [topic], storage: StorageType.Memory });
  cleanups.push(async () => {
    await jsm.streams.delete(stream);
    await nc.close();
  });
  return { nc, jsm, topic, stream };
}

async function driver(props: MetadataProperties): Promise<JetStreamPubSub> {
  const pubsub = new JetStreamPubSub();
  await pubsub.init({ natsURL: NATS_URL, ...props }, { name: 'ps', appId: 'jsdriver', namespace: '', dataDir: '/nonexistent', logger: silentLogger(), env: {} });
  cleanups.push(() => pubsub.close());
  return pubsub;
}

/** The stream's only consumer (the driver's durable one). */
async function consumerInfo(jsm: JetStreamManager, stream: string): Promise<ConsumerInfo> {
  const all = await jsm.consumers.list(stream).next();
  expect(all).toHaveLength(1);
  return all[0] as ConsumerInfo;
}

describe.skipIf(!up)('pubsub.jetstream driver', () => {
  it('pulls only for free slots: a slow app holding its deliveries past ackWait gets no duplicates', async () => {
    const { jsm, topic, stream } = await setUp();
    const pubsub = await driver({ streamName: stream, ackWait: '1s' });
    const concurrency = 2;
    const total = 10;
    const deliveries: string[] = [];
    const held: (() => void)[] = [];
    let holding = true;
    let handling = 0;
    let mostHandling = 0;
    let bothHeld!: () => void;
    const bothHeldNow = new Promise<void>((resolve) => (bothHeld = resolve));
    let allSeen!: () => void;
    const allSeenNow = new Promise<void>((resolve) => (allSeen = resolve));
    const handler: MessageHandler = async (message) => {
      deliveries.push(message.data.toString());
      handling++;
      mostHandling = Math.max(mostHandling, handling);
      if (new Set(deliveries).size === total) allSeen();
      if (holding) {
        await new Promise<void>((resolve) => {
          held.push(resolve);
          if (held.length === concurrency) bothHeld();
        });
      }
      handling--;
      return 'ack';
    };
    const subscription = await pubsub.subscribe({ topic, group: `g-${randomUUID()}`, concurrency, metadata: {} }, handler);
    for (let i = 0; i < total; i++) await pubsub.publish({ topic, data: Buffer.from(`m${i}`), metadata: {} });
    await bothHeldNow;

    // The fault is time passing: messages pulled ahead of the app outlive their ackWait and are
    // redelivered. Nothing to await for "did not happen", so let two ackWaits pass.
    await sleep(2500);
    const during = await consumerInfo(jsm, stream);
    // Handed out by the server and not acked = held by the app + waiting in process: at most the slots.
    expect(during.num_ack_pending).toBeLessThanOrEqual(concurrency);
    expect(during.num_redelivered).toBe(0);
    expect(deliveries).toEqual(['m0', 'm1']);

    holding = false;
    for (const release of held.splice(0)) release();
    await allSeenNow;
    await subscription.close();
    expect(deliveries).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(mostHandling).toBeLessThanOrEqual(concurrency);
    expect((await consumerInfo(jsm, stream)).num_redelivered).toBe(0);
  });

  it('rejects a maxAckPending below -1, naming the field', async () => {
    await expect(driver({ maxAckPending: '-5' })).rejects.toThrow(/maxAckPending/);
    await expect(driver({ maxAckPending: 'many' })).rejects.toThrow(/maxAckPending/);
  });

  it("sets maxAckPending on the consumer, updates an existing one, and leaves the server's default when unset", async () => {
    const { jsm, topic, stream } = await setUp();
    const group = `g-${randomUUID()}`;
    const handler: MessageHandler = async () => 'ack';

    const first = await driver({ streamName: stream, maxAckPending: '3' });
    await (await first.subscribe({ topic, group, concurrency: 1, metadata: {} }, handler)).close();
    expect((await consumerInfo(jsm, stream)).config.max_ack_pending).toBe(3);

    const second = await driver({ streamName: stream, maxAckPending: '5' });
    await (await second.subscribe({ topic, group, concurrency: 1, metadata: {} }, handler)).close();
    expect((await consumerInfo(jsm, stream)).config.max_ack_pending).toBe(5);

    const other = await setUp();
    const unset = await driver({ streamName: other.stream });
    await (await unset.subscribe({ topic: other.topic, group, concurrency: 1, metadata: {} }, handler)).close();
    // Dapr sets the field only when given; the NATS server's default then applies.
    expect((await consumerInfo(other.jsm, other.stream)).config.max_ack_pending).toBe(1000);
  });
});
