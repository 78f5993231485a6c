/**
 * Idempotent consumption: the event id is recorded in `processed_events` in the same transaction as
 * the change the event causes, so a redelivered event (at-least-once brokers, outbox republishing)
 * finds its id and changes nothing, and a crash before commit leaves neither behind.
 */
import type { Kysely, Transaction } from 'kysely';
import { now } from './db.js';
import type { EventTables } from './db.js';
import type { EventEnvelope } from './events.js';

/** What {@link consumeOnce} did. */
export type ConsumeOutcome = 'applied' | 'duplicate';

/**
 * Runs `apply` in a transaction unless `consumer` already processed `event`; records it if not.
 * Errors from `apply` roll everything back and propagate (the event bus then asks for a retry).
 */
export async function consumeOnce<DB extends EventTables>(
  db: Kysely<DB>,
  consumer: string,
  topic: string,
  event: EventEnvelope,
  apply: (trx: Transaction<DB>) => Promise<void>,
): Promise<ConsumeOutcome> {
  return db.transaction().execute(async (trx) => {
    const ledger = trx as unknown as Transaction<EventTables>;
    const seen = await ledger
      .selectFrom('processed_events')
      .select('event_id')
      .where('consumer', '=', consumer)
      .where('event_id', '=', event.event_id)
      .executeTakeFirst();
    if (seen) return 'duplicate';
    await apply(trx);
    await ledger.insertInto('processed_events').values({ consumer, event_id: event.event_id, topic, processed_at: now() }).execute();
    return 'applied';
  });
}
