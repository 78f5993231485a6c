/**
 * Each pub/sub component holds a fixed number of broker connections whatever the number of topics it
 * serves, counted as this process's established TCP connections to the broker's port (from
 * /proc/self/fd and /proc/net/tcp*): the driver subscribes to many topics, publishes, and the count
 * stays the same as with one topic; closing the component closes them all.
 *
 * `pubsub.mqtt3` is not here: it keeps a connection per subscription on purpose (see its driver).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connect as natsConnect } from 'nats';
import { Redis } from 'ioredis';
import { silentLogger } from '../../packages/runtime/src/index.js';
import type { ComponentContext } from '../../packages/runtime/src/components/component.js';
import type { PubSub } from '../../packages/runtime/src/components/pubsub/store.js';
import { JetStreamPubSub } from '../../packages/runtime/src/components/pubsub/jetstream/jetstream-pubsub.js';
import { RabbitMqPubSub } from '../../packages/runtime/src/components/pubsub/rabbitmq/rabbitmq-pubsub.js';
import { RedisPubSub } from '../../packages/runtime/src/components/pubsub/redis/redis-pubsub.js';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import type { ServiceEndpoint } from '../support/services.js';
import { eventually } from '../support/subscriber-app.js';

/** Established TCP connections of this process to `port`. */
function connectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed while listing
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const remote = cols[2];
      // State 01 is ESTABLISHED; column 9 is the socket's inode.
      if (!remote || cols[3] !== '01' || !inodes.has(cols[9] ?? '')) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) === port) count++;
    }
  }
  return count;
}

interface Driver {
  type: string;
  service: ServiceEndpoint;
  create(): PubSub;
  props: Record<string, string>;
  /** Connections the component holds, whatever its topic count. */
  connections: number;
  cleanup(topics: string[]): Promise<void>;
}

const DRIVERS: Driver[] = [
  {
    type: 'pubsub.redis',
    service: SERVICES.redis,
    create: () => new RedisPubSub(),
    // A block far beyond the test's waits: a topic subscribed while the reader is blocked must be read
    // at once (CLIENT UNBLOCK), not when the block times out.
    props: { redisHost: REDIS_HOST, blockTimeout: '60s' },
    // Commands (publish, ack, claims) and one blocking reader for every stream.
    connections: 2,
    cleanup: async (topics) => {
      const [host, port] = REDIS_HOST.split(':');
      const redis = new Redis({ host, port: Number(port ?? 6379) });
      await redis.del(...topics);
      redis.disconnect();
    },
  },
  {
    type: 'pubsub.jetstream',
    service: SERVICES.nats,
    create: () => new JetStreamPubSub(),
    props: { natsURL: `nats://${SERVICES.nats.host}:${SERVICES.nats.port}`, memoryStorage: 'true' },
    connections: 1,
    cleanup: async (topics) => {
      const nc = await natsConnect({ servers: `nats://${SERVICES.nats.host}:${SERVICES.nats.port}` });
      const jsm = await nc.jetstreamManager();
      for (const topic of topics) await jsm.streams.delete(`weft_${topic}`).catch(() => false);
      await nc.close();
    },
  },
  {
    type: 'pubsub.rabbitmq',
    service: SERVICES.rabbitmq,
    create: () => new RabbitMqPubSub(),
    props: { connectionString: `amqp://${SERVICES.rabbitmq.host}:${SERVICES.rabbitmq.port}`, durable: 'false', deletedWhenUnused: 'true' },
    // Subscriptions and publishing are channels multiplexed on one connection.
    connections: 1,
    cleanup: async () => undefined,
  },
];

const up = new Map<string, boolean>();
for (const d of DRIVERS) up.set(d.type, await requireService(d.service, `broker connections of ${d.type}`));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.each(DRIVERS)('$type', (driver) => {
  it.skipIf(!up.get(driver.type))(`serves 8 topics over ${driver.connections} broker connection(s), the same as 1 topic, and closes them`, async () => {
    const run = `conn${Math.random().toString(36).slice(2, 10)}`;
    const topics = Array.from({ length: 8 }, (_, i) => `${run}-t${i}`);
    cleanups.push(() => driver.cleanup(topics));
    const port = driver.service.port;
    const before = connectionsTo(port);
    const pubsub = driver.create();
    const context: ComponentContext = { name: 'ps', appId: run, namespace: '', dataDir: '/nonexistent', logger: silentLogger(), env: {} };
    await pubsub.init(driver.props, context);
    cleanups.push(() => pubsub.close());
    const received = new Set<string>();
    const subscribe = (topic: string) =>
      pubsub.subscribe({ topic, group: run, concurrency: 4, metadata: {} }, async (message) => {
        received.add(message.topic);
        return 'ack';
      });
    const subscriptions = [await subscribe(topics[0]!)];
    await pubsub.publish({ topic: topics[0]!, data: Buffer.from('{}'), metadata: {} });
    await eventually(() => received.size === 1, 10_000, 'the first delivery');
    const withOneTopic = connectionsTo(port) - before;

    for (const topic of topics.slice(1)) subscriptions.push(await subscribe(topic));
    for (const topic of topics) await pubsub.publish({ topic, data: Buffer.from('{}'), metadata: {} });
    await eventually(() => received.size === topics.length, 10_000, 'a delivery on every topic');
    expect({ withOneTopic, withEightTopics: connectionsTo(port) - before }).toEqual({ withOneTopic: driver.connections, withEightTopics: driver.connections });

    for (const s of subscriptions) await s.close();
    await pubsub.close();
    await eventually(() => connectionsTo(port) === before, 5_000, 'every connection closed');
  });
});
