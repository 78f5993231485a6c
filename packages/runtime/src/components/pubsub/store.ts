/**
 * The pub/sub contract. A driver moves opaque messages (bytes + content type + metadata) between a
 * publisher and consumer groups; it never looks inside a CloudEvent.
 *
 * Deliberately not in the contract: CloudEvent wrapping, routing, the SUCCESS/RETRY/DROP app contract,
 * dead-letter topics, in-process retries with backoff and expiry checks. The pub/sub building block
 * does all of those once for every driver. A driver only promises at-least-once delivery to each
 * consumer group: a message handed to a handler stays owned by the broker until the handler resolves
 * `'ack'`; on `'retry'`, a thrown error, or a crash of the process, it is delivered again.
 */
import type { Component } from '../component.js';

/**
 * Capabilities a driver declares. The first four are Dapr's names (reported by the metadata API);
 * `ORDERED` is Weft's: one consumer with concurrency 1 receives a topic's messages in publish order.
 */
export type PubSubFeature = 'MESSAGE_TTL' | 'SUBSCRIBE_WILDCARDS' | 'BULK_PUBLISH' | 'BULK_SUBSCRIBE' | 'ORDERED';

/** A message as the broker carries it. */
export interface PubSubMessage {
  topic: string;
  data: Buffer;
  /** Content type of `data` (`application/cloudevents+json` for enveloped events). */
  contentType?: string;
  /** Broker metadata; delivered to the app as headers. */
  metadata: Record<string, string>;
}

/** One publish. Metadata keys are the request's `metadata.*` after the block consumed its own. */
export interface PublishRequest {
  topic: string;
  data: Buffer;
  contentType?: string;
  metadata: Record<string, string>;
}

/** What a handler tells the driver about one message. */
export type HandlerOutcome = 'ack' | 'retry';

/** Handles one message; a rejection counts as `'retry'`. */
export type MessageHandler = (message: PubSubMessage) => Promise<HandlerOutcome>;

/** A subscription of one consumer to one topic. */
export interface SubscribeRequest {
  topic: string;
  /** Consumer group: instances in one group share messages; each group gets every message. */
  group: string;
  /** Most messages handed to the handler at once. @default 1 */
  concurrency: number;
  /** Subscription metadata (from the subscription, not the component). */
  metadata: Record<string, string>;
}

/** A live subscription. */
export interface Subscription {
  /** Stops receiving; messages in flight are left unacknowledged for redelivery. */
  close(): Promise<void>;
}

/** The required part of every pub/sub driver. */
export interface PubSub extends Component {
  features(): readonly PubSubFeature[];
  /** Resolves once the broker accepted the message durably (as durably as the broker can). */
  publish(request: PublishRequest): Promise<void>;
  subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription>;
}

/** One entry of a native bulk publish. */
export interface BulkPublishEntry extends PublishRequest {
  entryId: string;
}

/** Drivers with a native multi-message publish; others get one `publish` per entry. */
export interface BulkPublisher extends PubSub {
  /** Returns the ids of entries that failed, with the reason. */
  bulkPublish(entries: readonly BulkPublishEntry[]): Promise<{ entryId: string; error: string }[]>;
}

/** Type guard for {@link BulkPublisher}. */
export function isBulkPublisher(pubsub: PubSub): pubsub is BulkPublisher {
  return typeof (pubsub as Partial<BulkPublisher>).bulkPublish === 'function';
}
