/**
 * Pulls from a JetStream consumer only what the app can take now. `consume()` would re-pull as soon
 * as its callback ran, so with a slow app messages piled up in process while their `ackWait` ran out
 * and came back as duplicates. Here each {@link DemandFetcher.demand} asks the server (with a
 * long-polling fetch) for at most the free slots not already covered by messages asked for or
 * waiting, so a message received always has a slot to go to within one claim of the consume loop.
 */
import type { Consumer, ConsumeCallback, ConsumerMessages, FetchMessages, JsMsg } from 'nats';

/** How long one fetch waits at the server for messages before it is re-issued (nats.js's default). */
const FETCH_EXPIRES_MS = 30_000;

/** One subscription's demand-driven pulls. */
export class DemandFetcher {
  /** Received, not yet claimed. */
  private readonly buffer: JsMsg[] = [];
  /** Fetches under way, with how many messages each may still bring. */
  private readonly open = new Map<ConsumerMessages, { remaining: number }>();
  /** Sum of `remaining` over {@link open}. */
  private requested = 0;
  private closed = false;
  /** The error last reported: a missing consumer fails every fetch, one warning is enough. */
  private lastError: string | undefined;

  /**
   * @param consumer the durable pull consumer.
   * @param onMessage called when a message arrived (to wake the consume loop).
   * @param onError called when a fetch ended with an error (the next demand fetches again); the same
   *   error again is reported only after a message came through in between.
   * @param slots the subscription's delivery concurrency.
   */
  constructor(
    private readonly consumer: Consumer,
    private readonly onMessage: () => void,
    private readonly onError: (err: Error) => void,
    private readonly slots: number,
  ) {}

  /**
   * Hands out up to `free` received messages and asks the server for the rest of the `free` slots,
   * minus what earlier fetches may still bring.
   */
  async take(free: number): Promise<JsMsg[]> {
    const taken = this.buffer.splice(0, free);
    const wanted = free - taken.length - this.buffer.length - this.requested;
    // Each fetch is a subscription, a heartbeat monitor and a timer in nats.js: while messages are in
    // flight, wait until half the slots want filling (their settling claims again) rather than fetch
    // one or two at a time. With nothing in flight every free slot is asked for at once.
    const worthFetching = wanted >= Math.ceil(this.slots / 2) || free >= this.slots;
    if (wanted > 0 && worthFetching && !this.closed) {
      // What was taken goes to the app even when asking for more fails (the next claim asks again).
      await this.fetch(wanted).catch((err: unknown) => this.failed(err as Error));
    }
    return taken;
  }

  /** Ends every fetch and gives back what was received but never handed out. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.open.keys()].map((m) => m.close().catch(() => undefined)));
    for (const msg of this.buffer.splice(0)) msg.nak();
  }

  private async fetch(count: number): Promise<void> {
    const state = { remaining: count };
    this.requested += count;
    let messages: ConsumerMessages;
    try {
      // nats.js's fetch takes a callback like consume() (no promise per message), though its
      // FetchMessages type does not list it.
      const options: FetchMessages & ConsumeCallback = {
        max_messages: count,
        expires: FETCH_EXPIRES_MS,
        callback: (msg) => {
          if (this.closed || state.remaining === 0) {
            // Past the demand (a fetch nats.js re-issued after missed heartbeats) or after close:
            // straight back to the stream rather than waiting here past ackWait.
            msg.nak();
            return;
          }
          state.remaining--;
          this.requested--;
          this.lastError = undefined;
          this.buffer.push(msg);
          this.onMessage();
        },
      };
      messages = await this.consumer.fetch(options);
    } catch (err) {
      this.requested -= count;
      throw err;
    }
    this.open.set(messages, state);
    void messages.closed().then(
      (err) => this.ended(messages, err ?? undefined),
      (err: unknown) => this.ended(messages, err as Error),
    );
  }

  /** A fetch is over (filled, expired or failed): what it did not bring is no longer asked for. */
  private ended(messages: ConsumerMessages, err: Error | undefined): void {
    const state = this.open.get(messages);
    if (!state) return;
    this.open.delete(messages);
    this.requested -= state.remaining;
    state.remaining = 0;
    if (err && !this.closed) this.failed(err);
  }

  private failed(err: Error): void {
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.onError(err);
  }
}
