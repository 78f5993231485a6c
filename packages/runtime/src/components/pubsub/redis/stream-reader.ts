/**
 * One blocking Redis connection that reads every subscribed stream of a component: a single
 * `XREADGROUP … STREAMS s1 s2 … > > …` loop instead of a connection per topic, so a `pubsub.redis`
 * component holds two connections (commands, and this one) whatever the number of its topics.
 *
 * Reads are pulled by demand: a subscription asks for up to its spare concurrency when its buffer is
 * empty, and only streams with demand are read, so nothing is taken from Redis that no handler can
 * start (a message read but not started would sit idle in the pending list until another consumer
 * claimed it). When a stream gains demand while the read in progress does not include it, the read is
 * ended at once with `CLIENT UNBLOCK` rather than after `blockTimeout`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../../logging/logger.js';

/** `[id, fields]` as XREADGROUP returns it (fields are null for an entry deleted since). */
export type StreamEntry = [id: string, fields: Buffer[]];

/** The XREADGROUP reply over several streams. */
type ReadReply = [stream: Buffer, entries: [id: Buffer, fields: Buffer[] | null][]][] | null;

interface Reading {
  group: string;
  /** How many entries the subscription can start now; 0 while it has a buffer to work through. */
  demand: number;
  deliver(entries: StreamEntry[]): void;
}

/** A subscription's handle on the shared reader. */
export interface StreamReaderSubscription {
  /** Asks for up to `max` new entries (the subscription's buffer is empty). */
  demand(max: number): void;
  /** Stops reading the stream; entries read but not delivered stay pending for XAUTOCLAIM. */
  remove(): void;
}

/** Options of {@link SharedStreamReader}. */
export interface SharedStreamReaderOptions {
  /** The connection blocked in XREADGROUP; the reader owns it and disconnects it on close. */
  reader: Redis;
  /** A connection for `CLIENT UNBLOCK` (the component's command connection). */
  control: Redis;
  /** This sidecar's consumer name in every group. */
  consumerName: string;
  blockMs: number;
  logger: Logger;
}

/** The read loop over all streams of one component. */
export class SharedStreamReader {
  private readonly streams = new Map<string, Reading>();
  /** Streams of the XREADGROUP in progress. */
  private reading: ReadonlySet<string> | undefined;
  private unblockSent = false;
  private readerId: number | undefined;
  private idle: (() => void) | undefined;
  private closed = false;
  private readonly loopDone: Promise<void>;

  constructor(private readonly options: SharedStreamReaderOptions) {
    // The id changes when ioredis reconnects; CLIENT UNBLOCK needs the current one.
    const refreshId = () => {
      options.reader.client('ID').then(
        (id) => (this.readerId = Number(id)),
        () => (this.readerId = undefined),
      );
    };
    options.reader.on('ready', refreshId);
    refreshId();
    this.loopDone = this.loop();
  }

  /** Reads `stream` in `group`, handing each batch to `deliver`. */
  add(stream: string, group: string, deliver: (entries: StreamEntry[]) => void): StreamReaderSubscription {
    const reading: Reading = { group, demand: 0, deliver };
    this.streams.set(stream, reading);
    return {
      demand: (max) => {
        if (this.streams.get(stream) !== reading || max <= 0) return;
        reading.demand = max;
        this.kick(stream);
      },
      remove: () => {
        if (this.streams.get(stream) === reading) this.streams.delete(stream);
      },
    };
  }

  /** Ends the loop and the reading connection (a blocked read ends with it). */
  async close(): Promise<void> {
    this.closed = true;
    this.idle?.();
    this.options.reader.disconnect();
    await this.loopDone;
  }

  private async recreateGroup(stream: string, group: string): Promise<void> {
    try {
      await this.options.control.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) this.options.logger.warn(`redis: cannot recreate group ${group} of stream ${stream}`, { error: (err as Error).message });
    }
  }

  /** Makes the loop see a new demand on `stream` now. */
  private kick(stream: string): void {
    if (this.idle) {
      const wake = this.idle;
      this.idle = undefined;
      wake();
      return;
    }
    if (!this.reading || this.reading.has(stream) || this.unblockSent || this.readerId === undefined) return;
    this.unblockSent = true;
    this.options.control.client('UNBLOCK', this.readerId).catch((err: unknown) => {
      this.options.logger.debug('redis: CLIENT UNBLOCK failed; the read ends at its block timeout', { error: (err as Error).message });
    });
  }

  private async loop(): Promise<void> {
    const { reader, consumerName, blockMs, logger } = this.options;
    while (!this.closed) {
      const wanted = [...this.streams].filter(([, r]) => r.demand > 0);
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        continue;
      }
      // XREADGROUP names one group: read the first wanted stream's group now, the others next round.
      const group = (wanted[0] as [string, Reading])[1].group;
      const batch = wanted.filter(([, r]) => r.group === group);
      const names = batch.map(([name]) => name);
      // COUNT is per stream: the smallest demand never hands a subscription more than it can start.
      const count = Math.min(...batch.map(([, r]) => r.demand));
      this.reading = new Set(names);
      this.unblockSent = false;
      let reply: ReadReply;
      try {
        reply = (await reader.callBuffer(
          'XREADGROUP', 'GROUP', group, consumerName, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...names, ...names.map(() => '>'),
        )) as ReadReply;
      } catch (err) {
        if (this.closed) break;
        const message = (err as Error).message;
        logger.warn('redis: reading streams failed', { error: message });
        // A stream deleted under us fails the read of every stream: put its group back (at 0, as on subscribe).
        if (message.includes('NOGROUP')) await Promise.all(names.map((name) => this.recreateGroup(name, group)));
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
        continue;
      } finally {
        this.reading = undefined;
      }
      for (const [name, entries] of reply ?? []) {
        const reading = this.streams.get(name.toString());
        if (!reading) continue;
        const live = entries.filter((e): e is [Buffer, Buffer[]] => e[1] !== null).map(([id, fields]): StreamEntry => [id.toString(), fields]);
        if (live.length === 0) continue;
        reading.demand = 0;
        reading.deliver(live);
      }
    }
  }
}
