/**
 * The signal that cancels a call downstream when the client that asked for it went away. undici takes
 * an EventEmitter with `aborted` and `reason` as a request signal, and one of these costs less than an
 * AbortController per call (its EventTarget and bookkeeping were the largest single item of the
 * invocation forwarder's own CPU in a profile at 1,000 requests/s).
 */
import { EventEmitter } from 'node:events';

/** Emits `abort` once, when {@link CallerGone.abort} is called. */
export class CallerGone extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  /** Cancels whatever listens; later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new Error('the caller went away before the answer was complete');
    this.emit('abort');
  }
}
