/**
 * Broker clients write to their socket as soon as a command is issued (or at the next microtask
 * checkpoint), and every HTTP publish request or app response arrives in a callback of its own, so
 * without this each publish and each ack would be a system call and a wake-up of the broker. Deferred
 * here (or corked until then), everything issued while the event loop handles one round of I/O goes
 * out in one write. The delay is the rest of the current I/O round: microseconds, not a timer.
 */
import type { Writable } from 'node:stream';

/** Runs work at the end of the current turn of the event loop (`setImmediate`), all of it together. */
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

/** Sockets corked until the end of the current turn. */
const corked = new WeakSet<Writable>();

/**
 * Holds what is written to `socket` until the end of this turn of the event loop, then sends it with
 * one system call (`writev`): for clients that write each command as it is issued (ioredis). A socket
 * already corked in this turn stays as it is.
 */
export function corkUntilEndOfTurn(socket: Writable | undefined): void {
  if (!socket || corked.has(socket) || socket.destroyed) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
