/**
 * `pubsub.redis`: Redis Streams with consumer groups, as Dapr's driver uses them. The topic is the
 * stream, the consumer group is created at `0` (so it also reads what was published before it
 * existed), every consumer has its own name in the group. A message stays in the group's pending list
 * until acknowledged; every `redeliverInterval` each consumer takes over (XAUTOCLAIM) pending messages
 * idle for longer than `processingTimeout`, which is how the messages of a killed consumer come back.
 * In-flight messages are kept fresh (XCLAIM … JUSTID) so a slow app is not mistaken for a dead one.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import type { ClaimedMessage } from '../pull-consumer.js';
import { PullConsumer } from '../pull-consumer.js';
import type { MessageHandler, PubSub, PubSubFeature, PubSubMessage, PublishRequest, SubscribeRequest, Subscription } from '../store.js';
import type { RedisPubSubMetadata } from './metadata.js';
import { parseRedisPubSubMetadata } from './metadata.js';
import { connectRedis } from '../../redis-connect.js';

type StreamEntry = [id: string, fields: Buffer[]];

function toMessage(topic: string, fields: Buffer[]): PubSubMessage {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set((fields[i] as Buffer).toString(), fields[i + 1] as Buffer);
  let metadata: Record<string, string> = {};
  const rawMeta = values.get('metadata');
  if (rawMeta) {
    try {
      metadata = JSON.parse(rawMeta.toString()) as Record<string, string>;
    } catch {
      metadata = {};
    }
  }
  const contentType = values.get('contentType')?.toString();
  return { topic, data: values.get('data') ?? Buffer.alloc(0), metadata, ...(contentType ? { contentType } : {}) };
}

/** Redis Streams pub/sub. */
export class RedisPubSub implements PubSub {
  private client: Redis | undefined;
  private meta!: RedisPubSubMetadata;
  private logger!: Logger;
  /** Aborted if the sidecar gives up on init; later connections (subscriptions) never see it abort. */
  private initSignal: AbortSignal | undefined;
  private readonly closers = new Set<() => Promise<void>>();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseRedisPubSubMetadata(props);
    this.logger = context.logger;
    this.initSignal = context.signal;
    this.client = await this.connect();
  }

  features(): readonly PubSubFeature[] {
    return ['ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    const fields: (string | Buffer)[] = ['data', request.data];
    if (Object.keys(request.metadata).length > 0) fields.push('metadata', JSON.stringify(request.metadata));
    if (request.contentType) fields.push('contentType', request.contentType);
    const client = this.requireClient();
    if (this.meta.maxLenApprox > 0) await client.xadd(request.topic, 'MAXLEN', '~', this.meta.maxLenApprox, '*', ...fields);
    else await client.xadd(request.topic, '*', ...fields);
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    const client = this.requireClient();
    const { topic: stream, group } = request;
    try {
      await client.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    const consumerName = `${os.hostname()}:${process.pid}:${randomUUID()}`;
    // Blocking reads get their own connection so publishes and acks never wait behind them.
    const reader = await this.connect();
    const reclaimed: StreamEntry[] = [];
    const idOf = new WeakMap<ClaimedMessage, string>();
    const claim = async (max: number): Promise<ClaimedMessage[]> => {
      let entries: StreamEntry[] = reclaimed.splice(0, max);
      if (entries.length === 0) {
        const res = (await reader.callBuffer(
          'XREADGROUP', 'GROUP', group, consumerName, 'COUNT', max, 'BLOCK', this.meta.blockMs, 'STREAMS', stream, '>',
        )) as [Buffer, [Buffer, Buffer[]][]][] | null;
        entries = (res?.[0]?.[1] ?? []).map(([id, fields]) => [id.toString(), fields]);
      }
      return entries
        .filter(([, fields]) => fields !== null)
        .map(([id, fields]) => {
          const claimed: ClaimedMessage = {
            message: toMessage(stream, fields),
            ack: async () => void (await client.xack(stream, group, id)),
            // Left pending: XAUTOCLAIM hands it out again after processingTimeout.
            retry: async () => undefined,
          };
          idOf.set(claimed, id);
          return claimed;
        });
    };
    const consumer = new PullConsumer({
      claim,
      handler,
      concurrency: request.concurrency,
      pollIntervalMs: 1,
      logger: this.logger,
      heartbeatMs: Math.max(100, Math.floor(this.meta.processingTimeoutMs / 3)),
      heartbeat: async (inFlight) => {
        const ids = inFlight.map((c) => idOf.get(c)).filter((id): id is string => id !== undefined);
        if (ids.length > 0) await client.xclaim(stream, group, consumerName, 0, ...ids, 'JUSTID');
      },
    });
    let timer: NodeJS.Timeout | undefined;
    if (this.meta.redeliverIntervalMs > 0) {
      const reclaim = async () => {
        const res = (await client.callBuffer('XAUTOCLAIM', stream, group, consumerName, this.meta.processingTimeoutMs, '0-0', 'COUNT', 100)) as [
          Buffer,
          [Buffer, Buffer[] | null][],
        ];
        for (const [id, fields] of res[1] ?? []) if (fields) reclaimed.push([id.toString(), fields]);
        if (reclaimed.length > 0) consumer.wake();
      };
      timer = setInterval(() => {
        reclaim().catch((err: unknown) => this.logger.warn('redis: reclaiming pending messages failed', { error: (err as Error).message }));
      }, this.meta.redeliverIntervalMs);
      timer.unref();
    }
    consumer.start();
    const close = async () => {
      clearInterval(timer);
      this.closers.delete(close);
      // Disconnecting ends a blocked XREADGROUP at once.
      reader.disconnect();
      await consumer.close();
    };
    this.closers.add(close);
    return { close };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    this.client?.disconnect();
    this.client = undefined;
  }

  /** A connected client; fails at once, naming host and cause, when Redis cannot be reached. */
  private connect(): Promise<Redis> {
    const m = this.meta;
    return connectRedis(
      {
        host: m.host,
        port: m.port,
        db: m.db,
        ...(m.username ? { username: m.username } : {}),
        ...(m.password ? { password: m.password } : {}),
        ...(m.enableTLS ? { tls: {} } : {}),
        maxRetriesPerRequest: 3,
      },
      this.logger,
      undefined,
      this.initSignal,
    );
  }

  private requireClient(): Redis {
    if (!this.client) throw new Error('pubsub.redis is not initialised');
    return this.client;
  }
}
