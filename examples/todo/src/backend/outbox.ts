/**
 * Publishes outbox rows through Dapr pub/sub in commit order. Each event keeps its outbox id as the
 * CloudEvent id, so a re-publish after a crash is recognisable downstream (the notification service
 * de-duplicates on it). Runs after every change and on a timer, which retries what failed.
 */
import type { DaprClient } from '@dapr/dapr';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from './db.js';

/** Drains `outbox_events` into the pub/sub component. */
export class Outbox {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dapr: DaprClient,
    private readonly pubsub: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts the periodic retry. */
  start(intervalMs = 2000): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Asks for a drain; coalesces with one already running. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.log.warn({ err }, 'outbox drain failed; will retry'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits for the current drain (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = await this.db.selectFrom('outbox_events').selectAll().where('published_at', 'is', null).orderBy('seq').limit(50).execute();
      if (batch.length === 0) return;
      for (const row of batch) {
        const res = await this.dapr.pubsub.publish(this.pubsub, row.topic, row.payload as object, {
          contentType: 'application/json',
          metadata: { 'cloudevent.id': row.id },
        });
        if (res.error) throw new Error(`publish to ${row.topic} failed: ${res.error.message}`);
        await this.db.updateTable('outbox_events').set({ published_at: new Date() }).where('id', '=', row.id).execute();
      }
    }
  }
}
