/** A request body passed on as a stream that fails once it exceeds the size limit. */
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** Error raised by a {@link LimitedBody} past its limit. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body too large (limit ${limit} bytes)`);
    this.name = 'BodyTooLargeError';
  }
}

/** Counts bytes through; errors with {@link BodyTooLargeError} past `limit`. */
export class LimitedBody extends Transform {
  private size = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.exceeded = true;
      callback(new BodyTooLargeError(this.limit));
      return;
    }
    callback(null, chunk);
  }
}

/** Whether a request carries a body at all (so GETs are sent without one). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** The declared length is over the limit (refuse before reading anything). */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

/** Pipes the request into a {@link LimitedBody}; undefined when there is no body. */
export function limitedBody(req: IncomingMessage, limit: number): LimitedBody | undefined {
  if (!hasBody(req)) return undefined;
  const body = new LimitedBody(limit);
  req.on('error', (err) => body.destroy(err));
  req.pipe(body);
  return body;
}

/**
 * Reads and discards the rest of a refused body (up to `capBytes`), so the client has finished sending
 * when the 413 arrives; a client still writing into a closed socket sees EPIPE instead of the answer.
 * Past the cap the request is destroyed.
 */
export function drainRequest(req: IncomingMessage, capBytes: number): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > capBytes) {
        req.destroy();
        done();
      }
    };
    req.unpipe();
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}
