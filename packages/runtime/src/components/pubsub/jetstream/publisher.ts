/**
 * JetStream publishes with one reply subscription for all of them, instead of nats.js's
 * `js.publish()`: that builds a request per message with two `Error`s for async stack traces, a
 * timer, and a `NatsError` made (and thrown away) when the request is settled, which together cost more
 * than the rest of the publish. Here a publish is a plain `PUB` with a reply subject
 * `<inbox>.<n>`; the server's PubAck (or error) comes back on the one wildcard subscription and settles
 * the publish. The semantics are `js.publish()`'s: the promise resolves once the stream stored the
 * message, and rejects on a JetStream error, on "no responders" (no stream takes the subject), or when
 * no answer came within the timeout (the message may still have been stored, as with nats.js).
 *
 * Publishes issued in one turn of the event loop are written together: nats.js flushes its outbound
 * buffer once per microtask checkpoint, and every HTTP publish request arrives in its own callback, so
 * without deferring each would be a write (and a wake-up of the server) of its own.
 */
import { createInbox } from 'nats';
import type { MsgHdrs, Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { EndOfTurn } from '../end-of-turn.js';

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  subject: string;
  deadline: number;
}

/** The reply to a JetStream publish. */
interface PubAckReply {
  stream?: string;
  error?: { code?: number; err_code?: number; description?: string };
}

/** Publishes to JetStream and waits for each message's PubAck. */
export class JetStreamPublisher {
  private readonly inbox: string;
  private readonly pending = new Map<number, Pending>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private readonly sends: EndOfTurn;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.inbox = `${createInbox()}.`;
    this.subscription = nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => this.onReply(err, msg) });
    // publish() settles its own errors, so nothing reaches onError.
    this.sends = new EndOfTurn(() => undefined);
    // One timer for every publish in flight rather than one each: a publish times out between
    // timeoutMs and 1.25 × timeoutMs after it was sent.
    this.sweeper = setInterval(() => this.expire(), Math.max(100, Math.floor(timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Publishes `data` to `subject`; resolves once JetStream stored it. */
  publish(subject: string, data: Uint8Array, headers: MsgHdrs | undefined): Promise<void> {
    const token = ++this.next;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, subject, deadline: performance.now() + this.timeoutMs });
      this.sends.run(() => {
        try {
          this.nc.publish(subject, data, { reply: `${this.inbox}${token}`, ...(headers ? { headers } : {}) });
        } catch (err) {
          this.settle(token, err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** Rejects what is still in flight and stops listening for replies. */
  close(): void {
    clearInterval(this.sweeper);
    this.subscription.unsubscribe();
    for (const token of [...this.pending.keys()]) this.settle(token, new Error('the JetStream connection closed before the publish was acknowledged'));
  }

  private onReply(err: NatsError | null, msg: Msg): void {
    if (err) {
      // The subscription itself failed (e.g. a permissions violation on the inbox): nothing will answer.
      for (const token of [...this.pending.keys()]) this.settle(token, new Error(`JetStream publish replies cannot be received: ${err.message}`));
      return;
    }
    const token = Number(msg.subject.slice(this.inbox.length));
    const pending = this.pending.get(token);
    if (!pending) return; // timed out already
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.settle(token, new Error(`no JetStream stream takes subject ${pending.subject} (no responders)`));
      return;
    }
    let reply: PubAckReply;
    try {
      reply = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString()) as PubAckReply;
    } catch {
      this.settle(token, new Error(`JetStream answered a publish to ${pending.subject} with something that is not a PubAck`));
      return;
    }
    if (reply.error) {
      const { description = 'unknown error', err_code, code } = reply.error;
      this.settle(token, new Error(`JetStream refused the publish to ${pending.subject}: ${description} (${err_code ?? code ?? '?'})`));
    } else if (!reply.stream) {
      this.settle(token, new Error(`JetStream answered a publish to ${pending.subject} with an invalid PubAck`));
    } else {
      this.settle(token);
    }
  }

  private settle(token: number, err?: Error): void {
    const pending = this.pending.get(token);
    if (!pending) return;
    this.pending.delete(token);
    if (err) pending.reject(err);
    else pending.resolve();
  }

  private expire(): void {
    const now = performance.now();
    // Tokens grow with time, so the map's insertion order is deadline order: stop at the first live one.
    for (const [token, pending] of this.pending) {
      if (pending.deadline > now) break;
      this.settle(token, new Error(`JetStream did not acknowledge the publish to ${pending.subject} within ${this.timeoutMs} ms`));
    }
  }
}
