/**
 * Runs work at the end of the current turn of the event loop (`setImmediate`), all of it together.
 *
 * Broker clients write to their socket as soon as a command is issued (or at the next microtask
 * checkpoint), and every HTTP publish request or app response arrives in a callback of its own, so
 * without this each publish and each ack would be a system call and a wake-up of the broker. Deferred
 * here, everything issued while the event loop handles one round of I/O goes out in one write. The
 * delay is the rest of the current I/O round: microseconds, not a timer.
 */
export class EndOfTurn {
  private queue: (() => void)[] = [];

  /** @param onError told of a queued function that threw; the others still run. */
  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `fn` at the end of this turn, after everything queued before it. */
  run(fn: () => void): void {
    if (this.queue.length === 0) setImmediate(() => this.flush());
    this.queue.push(fn);
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (const fn of queue) {
      try {
        fn();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
