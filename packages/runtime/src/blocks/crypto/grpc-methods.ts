/**
 * `EncryptAlpha1`/`DecryptAlpha1`: bidirectional streams of `{options?, payload: {data, seq}}`.
 * Options travel in the first message only; the first message must arrive within 5 seconds; input
 * sequence numbers must count up from 0; output chunks carry their own sequence from 0 (the header,
 * then one chunk per segment). Errors end the call with daprd's status and `ERR_*` code.
 */
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../../api/grpc/server.js';
import { ApiError, commonErrors } from '../../errors/index.js';
import type { CryptoBlock } from './crypto-block.js';
import type { CryptoGrpcDeps } from './grpc-deps.js';
import { cryptoErrors } from './errors.js';
import { subtleCryptoGrpcMethods } from './subtle.js';

/** How long daprd waits for the first message of a crypto stream. */
export const FIRST_CHUNK_TIMEOUT_MS = 5000;

interface StreamPayload {
  data?: Buffer;
  seq?: number | string;
}

interface EncryptOptionsMessage {
  component_name?: string;
  key_name?: string;
  key_wrap_algorithm?: string;
  data_encryption_cipher?: string;
  omit_decryption_key_name?: boolean;
  decryption_key_name?: string;
}

interface CryptoRequestMessage<O> {
  options?: O | null;
  payload?: StreamPayload | null;
}

type Duplex = grpc.ServerDuplexStream<unknown, unknown>;

/** Reads the first message, as daprd's `cryptoGetFirstChunk`. */
async function firstMessage<O>(iterator: AsyncIterator<unknown>, timeoutMs: number): Promise<CryptoRequestMessage<O>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const pending = iterator.next();
    // After a timeout nobody awaits this read any more; its later failure must not go unhandled.
    pending.catch(() => undefined);
    const next = await Promise.race([pending, timeout]);
    if (next === 'timeout') throw cryptoErrors.badRequest('error waiting for first message: context deadline exceeded');
    if (next.done) throw cryptoErrors.operation('error receiving the first message: EOF');
    return next.value as CryptoRequestMessage<O>;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw cryptoErrors.operation(`error receiving the first message: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The request's data chunks, checking sequence numbers and that options came first only. */
async function* payloads(first: CryptoRequestMessage<unknown>, rest: AsyncIterator<unknown>): AsyncIterable<Buffer> {
  let expect = 0;
  let message: CryptoRequestMessage<unknown> | undefined = first;
  while (message) {
    if (message !== first && message.options) throw new Error('options found in non-leading message');
    if (message.payload) {
      const seq = Number(message.payload.seq ?? 0);
      if (seq !== expect) throw new Error(`invalid sequence number received: ${seq} (expected: ${expect})`);
      expect++;
      const data = message.payload.data;
      if (data && data.length > 0) yield Buffer.from(data);
    }
    let next: IteratorResult<unknown>;
    try {
      next = await rest.next();
    } catch (err) {
      throw new Error(`error receiving message: ${(err as Error).message}`);
    }
    message = next.done ? undefined : (next.value as CryptoRequestMessage<unknown>);
  }
}

/**
 * Resolves when the call can take more output or has closed. Both waits are cancelled when one
 * settles: a leftover `once` would reject on the call's later 'error' event with nobody listening.
 */
async function writable(call: Duplex): Promise<void> {
  const controller = new AbortController();
  const settled = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
  try {
    await Promise.race([settled(once(call, 'drain', { signal: controller.signal })), settled(once(call, 'close', { signal: controller.signal }))]);
  } finally {
    controller.abort();
  }
}

/** Writes the output as `{payload: {data, seq}}` messages, respecting back-pressure. */
async function send(call: Duplex, output: AsyncIterable<Buffer>): Promise<void> {
  let seq = 0;
  for await (const data of output) {
    if (call.cancelled || call.destroyed) return;
    if (!call.write({ payload: { data, seq: seq++ } })) await writable(call);
  }
  call.end();
}

/**
 * The two stream handlers and the `Subtle*Alpha1` methods (see `subtle.ts`), as raw grpc-js handlers
 * ready for `addUnaryService`'s `streaming` argument.
 */
export function cryptoGrpcMethods(crypto: CryptoBlock, deps: CryptoGrpcDeps): grpc.UntypedServiceImplementation {
  const timeoutMs = deps.firstChunkTimeoutMs ?? FIRST_CHUNK_TIMEOUT_MS;
  const fail = (call: Duplex, err: unknown) => {
    if (call.destroyed || call.writableEnded) return;
    const api = err instanceof ApiError ? err : cryptoErrors.operation(err instanceof Error ? err.message : String(err));
    deps.logger.debug(`crypto stream failed: ${api.message}`);
    // grpc-js turns an 'error' event on a server stream into the call's status; destroy() would
    // close the stream without sending one, leaving the client waiting.
    call.emit('error', toGrpcError(api, deps.logger));
  };
  const serve = (method: string, run: (call: Duplex, iterator: AsyncIterator<unknown>) => Promise<void>) => (call: Duplex) => {
    if (!deps.authorized(call)) return fail(call, commonErrors.invalidToken());
    if (deps.allowed && !deps.allowed(method)) return fail(call, commonErrors.apiNotAllowed(`/dapr.proto.runtime.v1.Dapr/${method}`));
    // Not the default async iterator: at the end of the input it destroys the whole duplex stream,
    // response side included, before the output has been sent.
    const iterator = call.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
    run(call, iterator).catch((err: unknown) => fail(call, err));
  };
  return {
    ...subtleCryptoGrpcMethods(deps),
    EncryptAlpha1: serve('EncryptAlpha1', async (call, iterator) => {
      const first = await firstMessage<EncryptOptionsMessage>(iterator, timeoutMs);
      const options = first.options;
      if (!options) throw cryptoErrors.badRequest('first message does not contain the required options');
      if (!options.key_name) throw cryptoErrors.badRequest("missing property 'keyName' in the options message");
      if (!options.key_wrap_algorithm) throw cryptoErrors.badRequest("missing property 'keyWrapAlgorithm' in the options message");
      const output = await crypto.encrypt(
        {
          componentName: options.component_name ?? '',
          keyName: options.key_name,
          keyWrapAlgorithm: options.key_wrap_algorithm,
          omitDecryptionKeyName: options.omit_decryption_key_name === true,
          decryptionKeyName: options.decryption_key_name ?? '',
          dataEncryptionCipher: options.data_encryption_cipher ?? '',
        },
        payloads(first, iterator),
      );
      await send(call, output);
    }),
    DecryptAlpha1: serve('DecryptAlpha1', async (call, iterator) => {
      const first = await firstMessage<{ component_name?: string; key_name?: string }>(iterator, timeoutMs);
      const options = first.options;
      if (!options) throw cryptoErrors.badRequest('first message does not contain the required options');
      const output = await crypto.decrypt({ componentName: options.component_name ?? '', keyName: options.key_name ?? '' }, payloads(first, iterator));
      await send(call, output);
    }),
  };
}
