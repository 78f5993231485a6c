/**
 * `pubsub.rabbitmq`, laid out as Dapr's driver lays it out: one exchange per topic (`exchangeKind`,
 * fanout by default), one queue per consumer group named `{group}-{topic}` bound to it. Instances of
 * one app id compete on the queue; each app id has its own queue and so gets every message. Messages
 * are acked only after the handler says so; a channel that dies (a killed sidecar) returns its
 * unacked messages to the queue. `durable: true` and `deletedWhenUnused: false` keep queues and
 * messages across broker and subscriber restarts.
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { redactUrl, unreachable } from '../../../util/network-error.js';
import { MetadataError, readBool, readEnum, readInt, readProperty } from '../../metadata.js';
import { retryRejected } from '../handler-rejection.js';
import type { MessageHandler, PubSub, PubSubMessage, PubSubFeature, PublishRequest, SubscribeRequest, Subscription } from '../store.js';

/** Longest the AMQP connection handshake may stay silent. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

interface RabbitMetadata {
  connectionString: string;
  durable: boolean;
  deletedWhenUnused: boolean;
  deliveryMode: number;
  exchangeKind: 'fanout' | 'topic' | 'direct' | 'headers';
  prefetchCount: number;
  maxLen: number;
  maxLenBytes: number;
}

function parseMetadata(props: MetadataProperties): RabbitMetadata {
  const connectionString = readProperty(props, 'connectionString') || readProperty(props, 'host') || '';
  if (!connectionString.startsWith('amqp://') && !connectionString.startsWith('amqps://')) {
    throw new MetadataError('connectionString', `expected an amqp:// or amqps:// URL, got "${connectionString}"`);
  }
  const deliveryMode = readInt(props, 'deliveryMode', 0);
  if (![0, 1, 2].includes(deliveryMode)) throw new MetadataError('deliveryMode', 'must be 0, 1 or 2');
  return {
    connectionString,
    durable: readBool(props, 'durable', false),
    deletedWhenUnused: readBool(props, 'deletedWhenUnused', true),
    deliveryMode,
    exchangeKind: readEnum(props, 'exchangeKind', ['fanout', 'topic', 'direct', 'headers'], 'fanout'),
    prefetchCount: readInt(props, 'prefetchCount', 0),
    maxLen: readInt(props, 'maxLen', 0),
    maxLenBytes: readInt(props, 'maxLenBytes', 0),
  };
}

/** The parts of amqplib's connection (0.10) that {@link writeFramesTogether} reaches into. */
interface AmqpInternals {
  stream?: { cork?: () => void; uncork?: () => void };
  muxer?: { _readIncoming?: () => void };
}

/**
 * Makes amqplib write all the frames it has queued in one system call. Its muxer runs once per turn
 * of the event loop and writes every queued frame (a publish, an ack) to the socket with a `write`
 * of its own, so each costs a system call and a wake-up of the broker; corked for the length of that
 * pass, they leave together in one `writev`. If amqplib's internals are not what this expects (another
 * version), nothing is changed.
 */
function writeFramesTogether(model: ChannelModel): void {
  const { stream, muxer } = model.connection as unknown as AmqpInternals;
  const readIncoming = muxer?._readIncoming;
  if (!stream?.cork || !stream.uncork || !muxer || typeof readIncoming !== 'function') return;
  muxer._readIncoming = function (this: unknown) {
    stream.cork?.();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork?.();
    }
  };
}

/** RabbitMQ pub/sub. */
export class RabbitMqPubSub implements PubSub {
  private connection: ChannelModel | undefined;
  private publishChannel: amqp.ConfirmChannel | undefined;
  private meta!: RabbitMetadata;
  private logger!: Logger;
  private readonly subscriptions = new Set<Channel>();
  /** Exchanges declared on the current publish channel. */
  private readonly declared = new Set<string>();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseMetadata(props);
    this.logger = context.logger;
    try {
      // Nagle's algorithm would hold each small publish until the broker's delayed ACK (~40 ms).
      // `timeout` bounds the handshake: a broker that accepts and never answers would hold the socket
      // forever, long after the sidecar gave up on this init (amqplib cannot be aborted).
      this.connection = await amqp.connect(this.meta.connectionString, { noDelay: true, timeout: HANDSHAKE_TIMEOUT_MS });
    } catch (err) {
      throw unreachable('RabbitMQ', redactUrl(this.meta.connectionString), err);
    }
    this.connection.on('error', (err: Error) => this.logger.warn('rabbitmq connection error', { error: err.message }));
    writeFramesTogether(this.connection);
    await this.openPublishChannel();
  }

  features(): readonly PubSubFeature[] {
    return ['MESSAGE_TTL', 'ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    try {
      await this.publishOnce(request);
    } catch {
      // An auto-deleted exchange may have gone with its last queue (the channel closed on the 404):
      // declare it again on a fresh channel and try once more.
      this.declared.clear();
      await this.publishOnce(request);
    }
  }

  private async publishOnce(request: PublishRequest): Promise<void> {
    const channel = this.publishChannel ?? (await this.openPublishChannel());
    if (!this.declared.has(request.topic)) {
      await channel.assertExchange(request.topic, this.meta.exchangeKind, { durable: this.meta.durable, autoDelete: this.meta.deletedWhenUnused });
      this.declared.add(request.topic);
    }
    const ttl = request.metadata['ttlInSeconds'];
    const persistent = this.meta.deliveryMode === 2 || (this.meta.deliveryMode === 0 && this.meta.durable);
    await new Promise<void>((resolve, reject) => {
      channel.publish(
        request.topic,
        request.metadata['routingKey'] ?? '',
        request.data,
        {
          persistent,
          headers: request.metadata,
          ...(request.contentType ? { contentType: request.contentType } : {}),
          ...(ttl && /^\d+$/.test(ttl) ? { expiration: String(Number(ttl) * 1000) } : {}),
        },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    const connection = this.requireConnection();
    const channel = await connection.createChannel();
    this.subscriptions.add(channel);
    await this.declareExchange(channel, request.topic);
    const queue = `${request.group}-${request.topic}`;
    await channel.assertQueue(queue, {
      durable: this.meta.durable,
      autoDelete: this.meta.deletedWhenUnused,
      arguments: {
        ...(this.meta.maxLen > 0 ? { 'x-max-length': this.meta.maxLen } : {}),
        ...(this.meta.maxLenBytes > 0 ? { 'x-max-length-bytes': this.meta.maxLenBytes } : {}),
      },
    });
    await channel.bindQueue(queue, request.topic, request.metadata['routingKey'] ?? '');
    // The broker hands out no more than the concurrency: that is the per-subscription limit.
    await channel.prefetch(this.meta.prefetchCount > 0 ? this.meta.prefetchCount : Math.max(1, request.concurrency));
    let open = true;
    const onMessage = (msg: ConsumeMessage | null) => {
      if (!msg) return;
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(msg.properties.headers ?? {})) if (v !== undefined && v !== null) metadata[k] = String(v);
      const contentType = msg.properties.contentType as string | undefined;
      const message: PubSubMessage = { topic: request.topic, data: msg.content, metadata, ...(contentType ? { contentType } : {}) };
      void handler(message)
        .catch((err: unknown) => retryRejected(this.logger, message, err))
        .then((outcome) => {
          if (!open) return;
          if (outcome === 'ack') channel.ack(msg);
          else channel.nack(msg, false, true);
        })
        .catch((err: unknown) => this.logger.warn('rabbitmq: failed to settle a message', { error: (err as Error).message }));
    };
    const { consumerTag } = await channel.consume(queue, onMessage, { noAck: false });
    return {
      close: async () => {
        if (!open) return;
        open = false;
        this.subscriptions.delete(channel);
        // Closing the channel returns its unacked messages to the queue.
        await channel.cancel(consumerTag).catch(() => undefined);
        await channel.close().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    for (const channel of this.subscriptions) await channel.close().catch(() => undefined);
    this.subscriptions.clear();
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
  }

  private async declareExchange(channel: Channel, topic: string): Promise<void> {
    await channel.assertExchange(topic, this.meta.exchangeKind, { durable: this.meta.durable, autoDelete: this.meta.deletedWhenUnused });
  }

  /** A confirm channel for publishing; reopened after a channel-level error closed it. */
  private async openPublishChannel(): Promise<amqp.ConfirmChannel> {
    const channel = await this.requireConnection().createConfirmChannel();
    channel.on('error', (err: Error) => this.logger.warn('rabbitmq publish channel error', { error: err.message }));
    channel.on('close', () => {
      if (this.publishChannel === channel) this.publishChannel = undefined;
      this.declared.clear();
    });
    this.publishChannel = channel;
    return channel;
  }

  private requireConnection(): ChannelModel {
    if (!this.connection) throw new Error('pubsub.rabbitmq is not initialised');
    return this.connection;
  }
}
