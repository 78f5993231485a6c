/**
 * The raw broker clients' own publish → consume loops, for comparison with Weft end to end: the same
 * 1 KB payloads, the same latency measure (consume time minus the send time carried in the payload),
 * acks after consumption as Weft does.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AckPolicy, DeliverPolicy, StorageType, connect } from 'nats';
import amqp from 'amqplib';

/** A raw loop: publish `publish(payload)`, and every consumed payload goes to `onMessage`. */
export interface RawLoop {
  publish(payload: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Redis Streams: XADD, XREADGROUP BLOCK, XACK. */
export async function redisLoop(host: string, port: number, onMessage: (payload: Buffer) => void): Promise<RawLoop> {
  const stream = `bench-raw-${randomUUID()}`;
  const pub = new Redis({ host, port });
  const reader = new Redis({ host, port });
  await pub.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  let open = true;
  const loop = (async () => {
    while (open) {
      const res = (await reader.callBuffer('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 100, 'BLOCK', 200, 'STREAMS', stream, '>').catch(() => null)) as
        | [Buffer, [Buffer, Buffer[]][]][]
        | null;
      for (const [id, fields] of res?.[0]?.[1] ?? []) {
        onMessage(fields[1] as Buffer);
        await pub.xack(stream, 'g', id.toString());
      }
    }
  })();
  return {
    publish: async (payload) => void (await pub.xadd(stream, '*', 'data', payload)),
    close: async () => {
      open = false;
      await loop;
      await pub.del(stream);
      pub.disconnect();
      reader.disconnect();
    },
  };
}

/** NATS JetStream: publish, durable pull consumer, ack. */
export async function natsLoop(url: string, onMessage: (payload: Buffer) => void): Promise<RawLoop> {
  const nc = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  const subject = `bench-raw-${randomUUID()}`;
  const stream = subject.replace(/-/g, '_');
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  await jsm.consumers.add(stream, { durable_name: 'g', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  const consumer = await nc.jetstream().consumers.get(stream, 'g');
  const messages = await consumer.consume({ max_messages: 256 });
  const loop = (async () => {
    for await (const m of messages) {
      onMessage(Buffer.from(m.data));
      m.ack();
    }
  })();
  const js = nc.jetstream();
  return {
    publish: async (payload) => void (await js.publish(subject, payload)),
    close: async () => {
      await messages.close();
      await loop;
      await jsm.streams.delete(stream);
      await nc.drain();
    },
  };
}

/** RabbitMQ: confirm-channel publish to a fanout exchange, consume from a queue, ack. */
export async function rabbitLoop(url: string, onMessage: (payload: Buffer) => void): Promise<RawLoop> {
  // noDelay: without it Nagle's algorithm meets delayed ACKs and every confirm waits ~40 ms (as Weft's driver sets it).
  const conn = await amqp.connect(url, { noDelay: true });
  const pubChannel = await conn.createConfirmChannel();
  const subChannel = await conn.createChannel();
  const exchange = `bench-raw-${randomUUID()}`;
  await pubChannel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
  const { queue } = await subChannel.assertQueue('', { exclusive: true });
  await subChannel.bindQueue(queue, exchange, '');
  await subChannel.prefetch(256);
  await subChannel.consume(queue, (msg) => {
    if (!msg) return;
    onMessage(msg.content);
    subChannel.ack(msg);
  });
  return {
    publish: (payload) =>
      new Promise<void>((resolve, reject) => {
        pubChannel.publish(exchange, '', payload, {}, (err) => (err ? reject(new Error(String(err))) : resolve()));
      }),
    close: async () => {
      await conn.close();
    },
  };
}
