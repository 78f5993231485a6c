/**
 * Waiting for another process's SQLite write lock without blocking the event loop. better-sqlite3's
 * `busy_timeout` sleeps inside the call, on the thread that made it: while another Weft process (or a
 * tool) holds the lock, every request of the sidecar would wait with it. The workflow store's
 * connection therefore runs with `busy_timeout = 0`, and its writes go through {@link retryWhenBusy},
 * which gives the event loop back between attempts and retries with a growing delay. {@link isBusy}
 * is also what `openSqlite` retries on when switching a new file to WAL.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Delays between attempts grow from this... */
const FIRST_DELAY_MS = 1;
/** ...to at most this, so a released lock is noticed soon. */
const MAX_DELAY_MS = 50;

/** True for SQLite's "another connection holds the lock" errors (`SQLITE_BUSY`, `SQLITE_BUSY_*`). */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `attempt` (a synchronous SQLite transaction) until it does not fail with `SQLITE_BUSY`,
 * waiting asynchronously between attempts (1 ms, doubling, at most 50 ms), for at most `timeoutMs`
 * in all; then the last busy error is thrown. Any other error is thrown at once. The first attempt
 * runs synchronously, so an uncontended write costs no extra turn of the event loop.
 */
export async function retryWhenBusy<T>(attempt: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    try {
      return attempt();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}
