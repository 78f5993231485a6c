/**
 * The trigger loop over a {@link JobStore} namespace, shared by the job scheduler and actor reminders:
 * one pass at a time claims and fires what is due, then sleeps until the earliest next due time (at
 * most `maxSleepMs`, and `idleSleepMs` while nothing can be fired yet), or until woken.
 */
import type { Logger } from '../logging/logger.js';
import type { JobStore } from './job-store.js';

/** What a {@link DueLoop} runs. */
export interface DueLoopOptions {
  store: JobStore;
  namespace: string;
  /** Claims and starts firing the due records (not awaiting the fires). */
  runDue: () => Promise<void>;
  /** False while nothing can be fired (no app yet): the loop then sleeps `idleSleepMs`. */
  ready: () => boolean;
  maxSleepMs: number;
  idleSleepMs: number;
  logger: Logger;
  /** Names the loop in its error log (`job scheduler`, `actor reminders`). */
  what: string;
}

/** A trigger loop; see the file comment. */
export class DueLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: DueLoopOptions) {}

  /** True once {@link DueLoop.close} was called. */
  get closed(): boolean {
    return this.stopped;
  }

  /** Looks at the store now. */
  wake(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  /** Stops the loop; the pass in progress finishes. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    const run = this.o.runDue();
    this.running = run;
    try {
      await run;
    } catch (err) {
      this.o.logger.error(`${this.o.what}: pass failed`, { error: (err as Error).message });
    } finally {
      this.running = undefined;
    }
    if (this.stopped) return;
    const { store, namespace, maxSleepMs, idleSleepMs } = this.o;
    const earliest = await store.earliest(namespace).catch(() => undefined);
    const wait = earliest === undefined ? maxSleepMs : Math.min(Math.max(earliest - Date.now(), 0), maxSleepMs);
    this.timer = setTimeout(() => void this.tick(), this.o.ready() ? wait : idleSleepMs);
  }
}
