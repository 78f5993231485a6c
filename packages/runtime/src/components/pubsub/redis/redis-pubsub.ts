/**
 * `pubsub.redis`: Redis Streams with consumer groups, as Dapr's driver uses them. The topic is the
 * stream, the consumer group is created at `0` (so it also reads what was published before it
 * existed), every consumer has its own name in the group. A message stays in the group's pending list
 * until acknowledged; every `redeliverInterval` each consumer takes over (XAUTOCLAIM) pending messages
 * idle for longer than `processingTimeout`, which is how the messages of a killed consumer come back.
 * In-flight messages are kept fresh (XCLAIM … JUSTID) so a slow app is not mistaken for a dead one.
 *
 * Connections: one for commands (publish, ack, claims) and one {@link SharedStreamReader} blocked in
 * XREADGROUP over every subscribed stream, so a component holds two whatever its number of topics.
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
import { SharedStreamReader } from './stream-reader.js';
import { corkUntilEndOfTurn } from '../end-of-turn.js';
import type { StreamEntry } from './stream-reader.js';

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

/**
 * Acks settled in the same turn of the event loop go out as one `XACK stream group id…`: one command
 * and one reply for a batch instead of one each. Every caller resolves when its batch is acknowledged.
 */
class AckBatcher {
  private ids: string[] = [];
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly send: (ids: string[]) => Promise<unknown>) {}

  ack(id: string): Promise<void> {
    if (this.ids.length === 0) setImmediate(() => this.flush());
    this.ids.push(id);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private flush(): void {
    const { ids, waiters } = this;
    this.ids = [];
    this.waiters = [];
    this.send(ids).then(
      () => waiters.forEach((w) => w.resolve()),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    );
  }
}

/** Redis Streams pub/sub. */
export class RedisPubSub implements PubSub {
  private client: Redis | undefined;
  private meta!: RedisPubSubMetadata;
  private logger!: Logger;
  private connectionName = '';
  /** Aborted if the sidecar gives up on init; later connections (subscriptions) never see it abort. */
  private initSignal: AbortSignal | undefined;
  private readonly closers = new Set<() => Promise<void>>();
  /** Opened with the first subscription; one per component. */
  private reader: Promise<SharedStreamReader> | undefined;
  /** This sidecar's consumer name in the groups of this component. */
  private readonly consumerName = `${os.hostname()}:${process.pid}:${randomUUID()}`;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseRedisPubSubMetadata(props);
    this.logger = context.logger;
    // Named, so `CLIENT LIST` shows which sidecar and component a connection belongs to.
    this.connectionName = `weft:${context.appId}:${context.name}`.replace(/\s/g, '_');
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
    // The XADDs of one event-loop turn go to Redis in one write.
    corkUntilEndOfTurn(client.stream);
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
    const consumerName = this.consumerName;
    const reader = await this.sharedReader();
    const buffered: StreamEntry[] = [];
    const reclaimed: StreamEntry[] = [];
    const idOf = new WeakMap<ClaimedMessage, string>();
    const acks = new AckBatcher((ids) => client.xack(stream, group, ...ids));
    const readerSubscription = reader.add(stream, group, (entries) => {
      buffered.push(...entries);
      consumer.wake();
    });
    const claim = async (max: number): Promise<ClaimedMessage[]> => {
      const entries: StreamEntry[] = reclaimed.splice(0, max);
      entries.push(...buffered.splice(0, max - entries.length));
      if (entries.length === 0) readerSubscription.demand(max);
      return entries.map(([id, fields]) => {
        const claimed: ClaimedMessage = {
          message: toMessage(stream, fields),
          ack: () => acks.ack(id),
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
      // The reader wakes the consumer when entries arrive; the poll only backs up a missed wake-up.
      pollIntervalMs: 250,
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
      readerSubscription.remove();
      await consumer.close();
    };
    this.closers.add(close);
    return { close };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    const reader = this.reader;
    this.reader = undefined;
    await reader?.then((r) => r.close(), () => undefined);
    this.client?.disconnect();
    this.client = undefined;
  }

  /** The component's one reading connection, opened on first use. */
  private sharedReader(): Promise<SharedStreamReader> {
    this.reader ??= this.connect().then(
      (reader) => new SharedStreamReader({ reader, control: this.requireClient(), consumerName: this.consumerName, blockMs: this.meta.blockMs, logger: this.logger }),
    );
    // A failed connect is not cached: the next subscription tries again.
    this.reader.catch(() => (this.reader = undefined));
    return this.reader;
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
        connectionName: this.connectionName,
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
