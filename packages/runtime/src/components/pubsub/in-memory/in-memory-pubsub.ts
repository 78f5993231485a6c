/**
 * `pubsub.in-memory`: the reference driver. One bus per component name per process, so several
 * sidecars started in one process (tests, embedders) share it. Consumer groups, at-least-once
 * hand-over and in-order delivery at concurrency 1 behave as in the durable drivers; nothing survives
 * the process.
 */
import type { Logger } from '../../../logging/logger.js';
import { silentLogger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import { retryRejected } from '../handler-rejection.js';
import type { MetadataProperties } from '../../metadata.js';
import { readDurationMs } from '../../metadata.js';
import type {
  MessageHandler,
  PubSub,
  PubSubFeature,
  PubSubMessage,
  PublishRequest,
  SubscribeRequest,
  Subscription,
} from '../store.js';

interface Consumer {
  request: SubscribeRequest;
  handler: MessageHandler;
  /** The subscribing component's logger (a group's consumers may belong to several instances). */
  logger: Logger;
  inFlight: number;
  closed: boolean;
}

/** One consumer group of one topic: a ready queue shared by its consumers. */
class Group {
  readonly ready: PubSubMessage[] = [];
  readonly consumers: Consumer[] = [];
  private next = 0;

  constructor(private readonly redeliverDelayMs: () => number) {}

  /** Hands ready messages to consumers with spare concurrency, round robin. */
  pump(): void {
    while (this.ready.length > 0) {
      const consumer = this.pick();
      if (!consumer) return;
      const message = this.ready.shift() as PubSubMessage;
      consumer.inFlight++;
      void this.handle(consumer, message);
    }
  }

  private pick(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const consumer = this.consumers[(this.next + i) % this.consumers.length] as Consumer;
      if (!consumer.closed && consumer.inFlight < consumer.request.concurrency) {
        this.next = (this.next + i + 1) % this.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  private async handle(consumer: Consumer, message: PubSubMessage): Promise<void> {
    let outcome: 'ack' | 'retry';
    try {
      outcome = await consumer.handler(message);
    } catch (err) {
      outcome = retryRejected(consumer.logger, message, err);
    }
    consumer.inFlight--;
    if (outcome === 'retry') {
      // Back at the head, so an ordered consumer sees it again before anything newer.
      setTimeout(() => {
        this.ready.unshift(message);
        this.pump();
      }, this.redeliverDelayMs()).unref();
      return;
    }
    this.pump();
  }
}

/** Topic → group → state; one per component name. */
type Bus = Map<string, Map<string, Group>>;
const buses = new Map<string, Bus>();

/** In-memory pub/sub. */
export class InMemoryPubSub implements PubSub {
  private bus: Bus = new Map();
  private redeliverDelayMs = 100;
  private readonly subscriptions = new Set<Consumer>();
  private logger: Logger = silentLogger();

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.redeliverDelayMs = readDurationMs(props, 'redeliverInterval', 100, 1);
    this.logger = context.logger;
    let bus = buses.get(context.name);
    if (!bus) {
      bus = new Map();
      buses.set(context.name, bus);
    }
    this.bus = bus;
  }

  features(): readonly PubSubFeature[] {
    return ['ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    const groups = this.bus.get(request.topic);
    if (!groups) return;
    for (const group of groups.values()) {
      group.ready.push({ topic: request.topic, data: request.data, metadata: { ...request.metadata }, ...(request.contentType ? { contentType: request.contentType } : {}) });
      group.pump();
    }
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    let groups = this.bus.get(request.topic);
    if (!groups) {
      groups = new Map();
      this.bus.set(request.topic, groups);
    }
    let group = groups.get(request.group);
    if (!group) {
      group = new Group(() => this.redeliverDelayMs);
      groups.set(request.group, group);
    }
    const consumer: Consumer = { request: { ...request, concurrency: Math.max(1, request.concurrency) }, handler, logger: this.logger, inFlight: 0, closed: false };
    group.consumers.push(consumer);
    this.subscriptions.add(consumer);
    const owner = group;
    return {
      close: async () => {
        consumer.closed = true;
        this.subscriptions.delete(consumer);
        const i = owner.consumers.indexOf(consumer);
        if (i !== -1) owner.consumers.splice(i, 1);
      },
    };
  }

  async close(): Promise<void> {
    for (const consumer of this.subscriptions) consumer.closed = true;
    this.subscriptions.clear();
  }
}
