/**
 * Transactional outbox: an event is written in the same transaction as the change it announces and
 * published afterwards by a relay that keeps trying. A crash between commit and publish therefore
 * delays the event instead of losing it; a crash between publish and delete publishes it twice,
 * which consumers absorb by deduplicating on `event_id` (see `consume.ts`). The API and the worker
 * of a service share the outbox; a relay claims a row for a while before publishing it, so the two
 * do not normally publish the same event twice.
 */
import type { DaprClient } from '@dapr/dapr';
import type { Kysely, Transaction } from 'kysely';
import { now } from './db.js';
import type { EventTables } from './db.js';
import type { EventEnvelope } from './events.js';
import { newEnvelope } from './events.js';
import type { Logger } from './logger.js';

/** Publishes one payload to one (already prefixed) topic; throws when the broker did not take it. */
export type Publish = (topic: string, payload: EventEnvelope) => Promise<void>;

/** A {@link Publish} through a Dapr client (HTTP or gRPC); the SDK reports some failures as `{ error }`. */
export function daprPublisher(client: DaprClient, pubsubName: string): Publish {
  return async (topic, payload) => {
    const result = await client.pubsub.publish(pubsubName, topic, payload as unknown as object);
    if (result?.error) throw result.error;
  };
}

/** Turns unprefixed topic names into the deployment's names. */
export type TopicNamer = (topic: string) => string;

/** A namer that prepends `prefix` (empty in production, unique per test run). */
export const prefixTopics = (prefix: string): TopicNamer => (topic) => `${prefix}${topic}`;

/**
 * Queues an event inside `trx`. `eventType` is the unprefixed topic; `topic` its deployed name.
 * Returns the envelope so callers can log or return its id.
 */
export async function enqueueEvent<T>(
  trx: Transaction<EventTables> | Kysely<EventTables>,
  topic: string,
  eventType: string,
  data: T,
  metadata: Record<string, string> = {},
): Promise<EventEnvelope<T>> {
  const envelope = newEnvelope(eventType, data, metadata);
  await trx
    .insertInto('outbox')
    .values({ event_id: envelope.event_id, topic, payload: JSON.stringify(envelope), created_at: now(), attempts: 0, claimed_until: null })
    .execute();
  return envelope;
}

/** How long a relay owns a row it is publishing; a relay that dies lets it go after this. */
const CLAIM_MS = 30_000;

/** Publishes queued events in order, on demand and on an interval. */
export class OutboxRelay {
  private running: Promise<number> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<EventTables>,
    private readonly publish: Publish,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Starts the periodic sweep (which also picks up events left by a crashed process). */
  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Asks for a flush soon; flushes never overlap, and a kick during one causes another. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.flush()
      .catch((err: unknown) => {
        this.logger.warn({ err }, 'outbox flush failed; will retry');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Publishes every queued event, oldest first; stops at the first failure. Returns how many went out. */
  async flush(): Promise<number> {
    let sent = 0;
    for (;;) {
      const at = now();
      const rows = await this.db
        .selectFrom('outbox')
        .selectAll()
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
        .orderBy('created_at')
        .orderBy('event_id')
        .limit(100)
        .execute();
      if (rows.length === 0) return sent;
      for (const row of rows) {
        if (!(await this.claim(row.event_id))) continue;
        try {
          await this.publish(row.topic, JSON.parse(row.payload) as EventEnvelope);
        } catch (err) {
          await this.db.updateTable('outbox').set({ attempts: row.attempts + 1, claimed_until: null }).where('event_id', '=', row.event_id).execute();
          this.logger.warn({ err, topic: row.topic, eventId: row.event_id, attempts: row.attempts + 1 }, 'publish failed; the outbox keeps the event');
          return sent;
        }
        await this.db.deleteFrom('outbox').where('event_id', '=', row.event_id).execute();
        this.logger.info({ topic: row.topic, eventId: row.event_id }, 'event published');
        sent++;
      }
    }
  }

  /** Takes a row for {@link CLAIM_MS}; false when another relay holds it or it is gone. */
  private async claim(eventId: string): Promise<boolean> {
    const at = now();
    const result = await this.db
      .updateTable('outbox')
      .set({ claimed_until: new Date(Date.now() + CLAIM_MS).toISOString() })
      .where('event_id', '=', eventId)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Stops the sweep and waits for a flush in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
