/**
 * Reading request bodies under the `--dapr-http-max-request-size` limit, and decoding JSON bodies into
 * Dapr's `ERR_MALFORMED_REQUEST` when they do not parse.
 */
import type { IncomingMessage } from 'node:http';
import { commonErrors } from '../../errors/index.js';

/** Reads the whole body, refusing more than `limit` bytes with 413 before buffering it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(commonErrors.bodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(commonErrors.bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(commonErrors.bodyRead(`failed to read request body: ${err.message}`));
      }
    });
  });
}

/** Parses a JSON body or throws `400 ERR_MALFORMED_REQUEST`. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw commonErrors.malformedRequest('request body is empty; expected JSON');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw commonErrors.malformedRequest(`failed to parse request body as JSON: ${(err as Error).message}`);
  }
}
