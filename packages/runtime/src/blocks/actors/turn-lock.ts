/**
 * Turn-based concurrency for one actor, as daprd's `targets/app/lock`: calls run one at a time in
 * arrival order. With reentrancy on, a call carrying the reentrancy id of a call already queued or
 * running joins it (a nested call of the same chain runs at once instead of deadlocking), up to the
 * configured stack depth.
 */
import { randomUUID } from 'node:crypto';
import { actorErrors } from './actor-errors.js';

interface Flight {
  id: string;
  depth: number;
  started: boolean;
  start: () => void;
  startedPromise: Promise<void>;
}

/** Thrown to waiters when the actor is deactivated or the runtime closes. */
export class ActorClosedError extends Error {
  constructor() {
    super('actor is closed');
    this.name = 'ActorClosedError';
  }
}

/** One actor's lock. */
export class TurnLock {
  private readonly flights: Flight[] = [];
  private closed = false;
  private readonly closeWaiters = new Set<(err: Error) => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly reentrancy: { enabled: boolean; maxStackDepth: number }) {}

  /** Calls waiting or running. */
  get busy(): boolean {
    return this.flights.length > 0;
  }

  /**
   * Waits for this call's turn. Returns the release function and the reentrancy id the call runs
   * under (generated when reentrancy is on and the call has none; undefined when off).
   */
  async acquire(reentrancyId: string | undefined): Promise<{ release: () => void; reentrancyId: string | undefined }> {
    if (this.closed) throw new ActorClosedError();
    const enabled = this.reentrancy.enabled;
    const id = enabled ? (reentrancyId || randomUUID()) : randomUUID();
    let flight = enabled && reentrancyId ? this.flights.find((f) => f.id === id) : undefined;
    if (flight) {
      if (flight.depth + 1 > this.reentrancy.maxStackDepth) throw actorErrors.stackDepth();
      flight.depth++;
    } else {
      let start!: () => void;
      const startedPromise = new Promise<void>((resolve) => (start = resolve));
      flight = { id, depth: 1, started: false, start, startedPromise };
      this.flights.push(flight);
      if (this.flights.length === 1) {
        flight.started = true;
        flight.start();
      }
    }
    const own = flight;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      own.depth--;
      if (own.depth > 0) return;
      const at = this.flights.indexOf(own);
      if (at !== -1) this.flights.splice(at, 1);
      const next = this.flights[0];
      if (!next) {
        for (const resolve of this.idleWaiters) resolve();
        this.idleWaiters = [];
      }
      if (next && !next.started) {
        next.started = true;
        next.start();
      }
    };
    if (!own.started) {
      await new Promise<void>((resolve, reject) => {
        const onClose = (err: Error) => reject(err);
        this.closeWaiters.add(onClose);
        void own.startedPromise.then(() => {
          this.closeWaiters.delete(onClose);
          resolve();
        });
      }).catch((err: unknown) => {
        release();
        throw err;
      });
    }
    return { release, reentrancyId: enabled ? id : undefined };
  }

  /** Resolves once no call runs or waits (at once when none does). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new calls and fails the queued ones; the running call finishes. */
  close(): void {
    this.closed = true;
    for (const fail of this.closeWaiters) fail(new ActorClosedError());
    this.closeWaiters.clear();
  }
}
