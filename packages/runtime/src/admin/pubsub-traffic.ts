/**
 * Recent pub/sub traffic of one sidecar, for the dashboard's live tail: every delivery attempt to the
 * app with its verdict, and every event sent to a dead-letter topic, kept (bounded, in memory) so it
 * can be replayed to its original topic. Bulk subscriptions are not recorded yet.
 */
import { randomUUID } from 'node:crypto';
import type { PubSubMessage } from '../components/pubsub/store.js';
import { Ring, previewText } from './ring.js';
import type { DeadLetterEntry, DeliveryOutcome, PubSubTrafficEntry } from './types.js';

/** A dead-lettered message with the bytes needed to republish it. */
export interface StoredDeadLetter extends DeadLetterEntry {
  message: PubSubMessage;
}

/**
 * The event's data as display text: the CloudEvent's `data`, else the raw bytes. `decoded` is the
 * CloudEvent the caller already parsed from `data`, which saves parsing it again on every delivery.
 */
export function eventPayload(data: Buffer, decoded?: Record<string, unknown>): { payload: string; eventId?: string } {
  let parsed: unknown = decoded;
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(data.toString('utf8')) as unknown;
    } catch {
      // Not JSON: shown as raw text.
    }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'specversion' in parsed) {
    const event = parsed as Record<string, unknown>;
    const body = event['data'] ?? event['data_base64'] ?? '';
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return { payload: previewText(Buffer.from(text)), ...(typeof event['id'] === 'string' ? { eventId: event['id'] } : {}) };
  }
  return { payload: previewText(data) };
}

/** Listeners get every new entry (the dashboard polls; tests and embedders may subscribe). */
export type TrafficListener = (entry: PubSubTrafficEntry) => void;

/** The recorder the pub/sub handlers report to. */
export class PubSubTraffic {
  private readonly traffic: Ring<PubSubTrafficEntry>;
  private readonly deadLetters: Ring<StoredDeadLetter>;
  private seq = 0;

  /** @param capacity entries kept of each kind. @default 1000 */
  constructor(capacity = 1000) {
    this.traffic = new Ring(capacity);
    this.deadLetters = new Ring(capacity);
  }

  /** Records one delivery attempt or settlement. */
  record(input: {
    pubsubName: string;
    topic: string;
    outcome: DeliveryOutcome;
    route?: string;
    reason?: string;
    data: Buffer;
    /** The CloudEvent already decoded from `data`, when the caller has it. */
    event?: Record<string, unknown>;
  }): PubSubTrafficEntry {
    // Every delivery is recorded but few are ever looked at: with the decoded event at hand, the
    // display text is made when the entry is first read, from the bytes it keeps.
    const eventId = input.event ? (typeof input.event['id'] === 'string' ? input.event['id'] : undefined) : eventPayload(input.data).eventId;
    const data = input.data;
    let payload: string | undefined;
    const entry: PubSubTrafficEntry = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      pubsubName: input.pubsubName,
      topic: input.topic,
      outcome: input.outcome,
      get payload(): string {
        return (payload ??= eventPayload(data).payload);
      },
      ...(eventId ? { eventId } : {}),
      ...(input.route ? { route: input.route } : {}),
      ...(input.reason ? { reason: input.reason } : {}),
    };
    this.traffic.push(entry);
    return entry;
  }

  /** Records a message sent to a dead-letter topic (and its `deadlettered` traffic entry). */
  recordDeadLetter(input: { pubsubName: string; deadLetterTopic: string; reason: string; message: PubSubMessage }): StoredDeadLetter {
    const { payload, eventId } = eventPayload(input.message.data);
    this.record({ pubsubName: input.pubsubName, topic: input.message.topic, outcome: 'deadlettered', reason: input.reason, data: input.message.data });
    const entry: StoredDeadLetter = {
      id: randomUUID(),
      time: new Date().toISOString(),
      pubsubName: input.pubsubName,
      topic: input.message.topic,
      deadLetterTopic: input.deadLetterTopic,
      reason: input.reason,
      payload,
      replays: 0,
      message: input.message,
      ...(eventId ? { eventId } : {}),
    };
    this.deadLetters.push(entry);
    return entry;
  }

  /** Recent traffic, newest first, optionally of one topic and after a sequence number. */
  recent(filter: { topic?: string; pubsubName?: string; afterSeq?: number; limit?: number } = {}): PubSubTrafficEntry[] {
    const limit = filter.limit ?? 200;
    return this.traffic
      .newest()
      .filter((e) => (!filter.topic || e.topic === filter.topic) && (!filter.pubsubName || e.pubsubName === filter.pubsubName) && e.seq > (filter.afterSeq ?? 0))
      .slice(0, limit);
  }

  /** Dead-lettered messages, newest first. */
  listDeadLetters(): DeadLetterEntry[] {
    return this.deadLetters.newest().map(({ message: _message, ...entry }) => entry);
  }

  /** A dead letter by id, with its bytes. */
  deadLetter(id: string): StoredDeadLetter | undefined {
    return this.deadLetters.find((d) => d.id === id);
  }
}
