/**
 * `pubsub.jetstream`: NATS JetStream. The topic is the subject; it is stored in the stream named by
 * `streamName`, or, when none is given, in a stream Weft creates per topic. Each consumer group is a
 * durable pull consumer (explicit acks, delivering from the start of the stream), so instances of one
 * app id share messages and every app id gets all of them. Unacked messages come back after `ackWait`
 * (a killed sidecar), and messages in flight are kept alive with `working()` so a slow app is not
 * mistaken for a dead one. Messages are fetched only for free delivery slots ({@link DemandFetcher}), so
 * none waits in process past `ackWait`; `maxAckPending` caps what the server hands out unacked, as in Dapr.
 */
import { createHash } from 'node:crypto';
import { AckPolicy, DeliverPolicy, StorageType, connect, headers as natsHeaders, nanos } from 'nats';
import type { ConsumerInfo, JetStreamClient, JetStreamManager, JsMsg, MsgHdrs, NatsConnection } from 'nats';
import type { Logger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { redactUrl, unreachable } from '../../../util/network-error.js';
import { MetadataError, readBool, readDurationMs, readInt, readProperty, requireString } from '../../metadata.js';
import type { ClaimedMessage } from '../pull-consumer.js';
import { PullConsumer } from '../pull-consumer.js';
import { EndOfTurn } from '../end-of-turn.js';
import { DemandFetcher } from './demand-fetcher.js';
import { JetStreamPublisher } from './publisher.js';
import type { MessageHandler, PubSub, PubSubFeature, PublishRequest, SubscribeRequest, Subscription } from '../store.js';

interface JetStreamMetadata {
  natsURL: string;
  streamName?: string;
  ackWaitMs: number;
  maxDeliver: number;
  /** Unacked messages the server hands out at most; -1 unlimited; unset: the server's default (1000), as Dapr leaves it. */
  maxAckPending?: number;
  memoryStorage: boolean;
}

function parseMetadata(props: MetadataProperties): JetStreamMetadata {
  const natsURL = requireString(props, 'natsURL');
  const streamName = readProperty(props, 'streamName');
  // 0 means "not set" in Dapr too: the consumer keeps the server's default.
  const maxAckPending = readInt(props, 'maxAckPending', 0);
  if (maxAckPending < -1) throw new MetadataError('maxAckPending', 'must be a positive number, or -1 for no limit');
  const meta: JetStreamMetadata = {
    natsURL,
    ...(streamName ? { streamName } : {}),
    ackWaitMs: readDurationMs(props, 'ackWait', 30_000),
    maxDeliver: readInt(props, 'maxDeliver', -1),
    ...(maxAckPending !== 0 ? { maxAckPending } : {}),
    memoryStorage: readBool(props, 'memoryStorage', false),
  };
  if (meta.ackWaitMs < 1000) throw new MetadataError('ackWait', 'must be at least 1s');
  return meta;
}

/** How long a publish waits for its PubAck (nats.js's JetStream default). */
const PUBLISH_TIMEOUT_MS = 5000;

/** A JetStream-safe name for an arbitrary string (no `.`, `*`, `>`, spaces), with a hash against collisions. */
function safeName(prefix: string, value: string): string {
  const hash = createHash('sha1').update(value).digest('hex').slice(0, 8);
  return `${prefix}${value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}_${hash}`;
}

/** NATS JetStream pub/sub. */
export class JetStreamPubSub implements PubSub {
  private nc: NatsConnection | undefined;
  private jsm!: JetStreamManager;
  /** One client for every subscription. */
  private js!: JetStreamClient;
  private publisher: JetStreamPublisher | undefined;
  /** Acks and naks of one event-loop turn go out in one write. */
  private settles!: EndOfTurn;
  private meta!: JetStreamMetadata;
  private logger!: Logger;
  private readonly streams = new Map<string, string>();
  /** Headers of a publish with no metadata, by content type. */
  private readonly contentTypeHeaders = new Map<string, MsgHdrs>();
  private readonly closers = new Set<() => Promise<void>>();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseMetadata(props);
    this.logger = context.logger;
    try {
      // noAsyncTraces: no Error (with a stack) made per request just in case it fails.
      this.nc = await connect({ servers: this.meta.natsURL, name: `weft-${context.appId}`, noAsyncTraces: true });
    } catch (err) {
      throw unreachable('NATS', redactUrl(this.meta.natsURL), err);
    }
    this.jsm = await this.nc.jetstreamManager();
    this.js = this.nc.jetstream();
    this.publisher = new JetStreamPublisher(this.nc, PUBLISH_TIMEOUT_MS);
    this.settles = new EndOfTurn((err) => this.logger.warn('jetstream: failed to settle a message', { error: (err as Error).message }));
  }

  features(): readonly PubSubFeature[] {
    return ['ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) throw new Error('pubsub.jetstream is not initialised');
    if (!this.meta.streamName && !this.streams.has(request.topic)) await this.streamFor(request.topic);
    let h: MsgHdrs | undefined;
    for (const k in request.metadata) (h ??= natsHeaders()).set(k, request.metadata[k] as string);
    if (h) {
      if (request.contentType) h.set('content-type', request.contentType);
    } else if (request.contentType) {
      // Most publishes carry only a content type: one headers object per type (nats.js only reads it).
      h = this.contentTypeHeaders.get(request.contentType);
      if (!h) {
        h = natsHeaders();
        h.set('content-type', request.contentType);
        if (this.contentTypeHeaders.size < 32) this.contentTypeHeaders.set(request.contentType, h);
      }
    }
    await publisher.publish(request.topic, request.data, h);
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    const stream = await this.streamFor(request.topic);
    const durable = safeName('', request.group);
    const { maxAckPending } = this.meta;
    let existing: ConsumerInfo | undefined;
    try {
      existing = await this.jsm.consumers.info(stream, durable);
    } catch {
      await this.jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: request.topic,
        ack_wait: nanos(this.meta.ackWaitMs),
        max_deliver: this.meta.maxDeliver,
        ...(maxAckPending !== undefined ? { max_ack_pending: maxAckPending } : {}),
      });
    }
    if (existing && maxAckPending !== undefined && existing.config.max_ack_pending !== maxAckPending) {
      // A durable consumer outlives the component file: a changed limit applies to it too.
      await this.jsm.consumers.update(stream, durable, { max_ack_pending: maxAckPending });
    }
    this.requireConnection();
    const consumer = await this.js.consumers.get(stream, durable);
    const msgOf = new WeakMap<ClaimedMessage, JsMsg>();
    const toClaimed = (msg: JsMsg): ClaimedMessage => {
      const metadata: Record<string, string> = {};
      let contentType: string | undefined;
      for (const [k, values] of msg.headers ?? []) {
        if (k.toLowerCase() === 'content-type') contentType = values[0];
        else if (values[0] !== undefined) metadata[k] = values[0];
      }
      const claimed: ClaimedMessage = {
        // A view of the received bytes, not a copy: nats.js never reuses them.
        message: { topic: request.topic, data: Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength), metadata, ...(contentType ? { contentType } : {}) },
        // A plain ack, as the NATS clients' own consumers send it: waiting for the server to confirm
        // each one (ackAck) costs a round trip per message, and a lost ack only means a redelivery
        // after ackWait, which at-least-once allows. Sent at the end of the turn with the others.
        ack: async () => this.settles.run(() => msg.ack()),
        retry: async () => this.settles.run(() => msg.nak()),
      };
      msgOf.set(claimed, msg);
      return claimed;
    };
    let closing = false;
    const fetcher = new DemandFetcher(
      consumer,
      // Only called once the loop below has claimed (and so fetched): `loop` is set by then.
      () => loop.wake(),
      (err) => {
        if (!closing) this.logger.warn('jetstream: fetching messages failed', { error: err.message });
      },
      Math.max(1, request.concurrency),
    );
    const loop = new PullConsumer({
      handler,
      concurrency: request.concurrency,
      pollIntervalMs: 100,
      logger: this.logger,
      heartbeatMs: Math.max(300, Math.floor(this.meta.ackWaitMs / 3)),
      heartbeat: async (inFlight) => {
        for (const c of inFlight) msgOf.get(c)?.working();
      },
      // `max` is the free slots: what is not in the fetcher's buffer is asked of the server.
      claim: async (max) => (await fetcher.take(max)).map(toClaimed),
    });
    loop.start();
    const close = async () => {
      closing = true;
      this.closers.delete(close);
      await loop.close();
      // Pulled but never handed out: back to the stream now rather than after ackWait.
      await fetcher.close();
    };
    this.closers.add(close);
    return { close };
  }

  async close(): Promise<void> {
    await Promise.all([...this.closers].map((c) => c()));
    this.publisher?.close();
    this.publisher = undefined;
    await this.nc?.drain().catch(() => undefined);
    this.nc = undefined;
  }

  /** The stream holding `topic`: the configured one, or one created for this topic. */
  private async streamFor(topic: string): Promise<string> {
    if (this.meta.streamName) return this.meta.streamName;
    const known = this.streams.get(topic);
    if (known) return known;
    const name = safeName('weft_', topic);
    try {
      await this.jsm.streams.info(name);
    } catch {
      try {
        await this.jsm.streams.add({ name, subjects: [topic], storage: this.meta.memoryStorage ? StorageType.Memory : StorageType.File });
      } catch (err) {
        // Another process created it first.
        if (!String((err as Error).message).includes('already in use')) throw err;
      }
    }
    this.streams.set(topic, name);
    return name;
  }

  private requireConnection(): NatsConnection {
    if (!this.nc) throw new Error('pubsub.jetstream is not initialised');
    return this.nc;
  }
}
