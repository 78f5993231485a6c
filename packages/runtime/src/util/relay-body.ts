/**
 * Streams an upstream response body into a server response. `stream.pipeline` does the same, but on
 * every finish it aborts an internal AbortController, which builds a `DOMException` with a stack
 * trace: a measurable share of the CPU an invocation costs. This keeps the two behaviours that matter:
 * an upstream failure cuts the client's response, and a client that goes away stops the upstream.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** Resolves when `to` closed after the whole body was written; rejects when `from` failed. */
export function relayBody(from: Readable, to: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    from.once('error', (err) => {
      from.unpipe(to);
      reject(err);
    });
    to.once('close', () => {
      if (to.writableFinished) resolve();
      else {
        from.destroy();
        reject(new Error('the client closed the connection before the response was complete'));
      }
    });
    from.pipe(to);
  });
}
