/**
 * The consume loop shared by pull-based drivers (SQLite, Redis Streams): claim up to the spare
 * concurrency, hand each message to the handler, settle it, and sleep until woken or the poll
 * interval passes. A claimed message is settled exactly once: `ack` after `'ack'`, `retry` after
 * `'retry'` or a rejection (logged with the event id); closing leaves in-flight messages to the broker's redelivery.
 *
 * Claims come in batches: a wake-up is deferred to the end of the current turn of the event loop, so
 * every message settled and every publish seen in that turn is answered by one claim; and while more
 * than a quarter of the slots are busy, a freed slot waits for others (or the poll interval) instead of
 * costing a claim (a store transaction or a broker round trip) of its own.
 */
import type { Logger } from '../../logging/logger.js';
import { retryRejected } from './handler-rejection.js';
import type { MessageHandler, PubSubMessage } from './store.js';

/** A message a driver claimed for this consumer. */
export interface ClaimedMessage {
  message: PubSubMessage;
  ack(): Promise<void>;
  retry(): Promise<void>;
}

/** Options of {@link PullConsumer}. */
export interface PullConsumerOptions {
  /** Claims at most `max` messages; an empty array means nothing is ready. */
  claim(max: number): Promise<ClaimedMessage[]>;
  handler: MessageHandler;
  concurrency: number;
  /** Sleep between empty polls. */
  pollIntervalMs: number;
  logger: Logger;
  /** Called every `heartbeatMs` with the messages in flight (lease renewal). */
  heartbeat?: (inFlight: readonly ClaimedMessage[]) => Promise<void>;
  heartbeatMs?: number;
}

/** One consumer's loop. */
export class PullConsumer {
  private readonly inFlight = new Set<ClaimedMessage>();
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeScheduled = false;
  /** Fewest free slots worth a claim while others are busy. */
  private readonly minBatch: number;

  constructor(private readonly options: PullConsumerOptions) {
    this.minBatch = Math.max(1, Math.floor(Math.max(1, options.concurrency) / 4));
  }

  /** Starts the loop (and the heartbeat). */
  start(): void {
    this.loopDone = this.loop();
    const { heartbeat, heartbeatMs } = this.options;
    if (heartbeat && heartbeatMs) {
      this.heartbeatTimer = setInterval(() => {
        if (this.inFlight.size === 0) return;
        heartbeat([...this.inFlight]).catch((err: unknown) =>
          this.options.logger.warn('failed to renew message leases', { error: (err as Error).message }),
        );
      }, heartbeatMs);
      this.heartbeatTimer.unref();
    }
  }

  /** Ends a sleep early (a local publish, or a slot freed), at the end of this turn of the event loop. */
  wake(): void {
    if (this.wakeScheduled || !this.wakeUp) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.wakeNow();
    });
  }

  private wakeNow(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Stops claiming; waits for the loop to exit (not for in-flight handlers). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    this.wakeNow();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const concurrency = Math.max(1, this.options.concurrency);
    let polled = true;
    let lastClaim = 0;
    while (!this.closed) {
      const spare = concurrency - this.inFlight.size;
      let claimed: ClaimedMessage[] = [];
      // A few free slots beside busy ones wait for more (or for a poll interval) rather than claim alone;
      // the clock, not only the timer, counts, so frequent wake-ups cannot hold them back for ever.
      const worthClaiming =
        spare > 0 && (spare >= this.minBatch || this.inFlight.size === 0 || polled || performance.now() - lastClaim >= this.options.pollIntervalMs);
      if (worthClaiming) {
        lastClaim = performance.now();
        try {
          claimed = await this.options.claim(spare);
        } catch (err) {
          if (this.closed) return;
          this.options.logger.warn('failed to read messages from the broker', { error: (err as Error).message });
        }
      }
      if (this.closed) {
        // Claimed after close began: give them straight back.
        await Promise.all(claimed.map((c) => c.retry().catch(() => undefined)));
        return;
      }
      for (const c of claimed) this.dispatch(c);
      if (claimed.length > 0 && claimed.length === spare) continue;
      // With every slot busy only a settled message (or close) can make progress: no timer then.
      const idleMs = this.inFlight.size < concurrency ? this.options.pollIntervalMs : undefined;
      polled = await new Promise<boolean>((resolve) => {
        const timer =
          idleMs === undefined
            ? undefined
            : setTimeout(() => {
                this.wakeUp = undefined;
                resolve(true);
              }, idleMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve(false);
        };
      });
    }
  }

  private dispatch(claimed: ClaimedMessage): void {
    this.inFlight.add(claimed);
    const settle = async (): Promise<void> => {
      let outcome: 'ack' | 'retry';
      try {
        outcome = await this.options.handler(claimed.message);
      } catch (err) {
        outcome = retryRejected(this.options.logger, claimed.message, err);
      }
      try {
        await (outcome === 'ack' ? claimed.ack() : claimed.retry());
      } catch (err) {
        // Left unsettled, the broker redelivers it after the processing timeout.
        this.options.logger.warn(`failed to ${outcome} a message`, { error: (err as Error).message });
      }
    };
    void settle().finally(() => {
      this.inFlight.delete(claimed);
      this.wake();
    });
  }
}
