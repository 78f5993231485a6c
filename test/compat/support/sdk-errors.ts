/**
 * Reads the two error shapes the SDK produces: the HTTP client's `Error` whose message is
 * `JSON.stringify({error, error_msg, status})`, and connect-es's `ConnectError` on gRPC.
 */
import { decodeErrorInfo } from './rpc-status.js';
import type { DecodedErrorInfo } from './rpc-status.js';

/** An SDK HTTP failure: the status, the raw body text and, when it is JSON, the parsed body. */
export interface SdkHttpError {
  status: number;
  statusText: string;
  text: string;
  body: { errorCode: string; message: string; details?: unknown[] } | undefined;
}

/** Parses the HTTP client's error (thrown, or returned as `{error}`). */
export function sdkHttpError(err: unknown): SdkHttpError {
  if (!(err instanceof Error)) throw new Error(`expected an Error, got ${JSON.stringify(err)}`);
  const outer = JSON.parse(err.message) as { error: string; error_msg: string; status: number };
  let body: SdkHttpError['body'];
  try {
    body = JSON.parse(outer.error_msg) as SdkHttpError['body'];
  } catch {
    body = undefined;
  }
  return { status: outer.status, statusText: outer.error, text: outer.error_msg, body };
}

/** What the gRPC client's ConnectError carries that the tests look at. */
export interface SdkGrpcError {
  code: number;
  rawMessage: string;
  errorInfos: DecodedErrorInfo[];
}

/** Reads a ConnectError structurally (connect-es is the SDK's dependency, not ours). */
export function sdkGrpcError(err: unknown): SdkGrpcError {
  const e = err as { name?: string; code?: unknown; rawMessage?: unknown; details?: { type?: string; value?: Uint8Array }[] };
  if (e?.name !== 'ConnectError' || typeof e.code !== 'number') throw new Error(`expected a ConnectError, got ${String(err)}`);
  return {
    code: e.code,
    rawMessage: String(e.rawMessage),
    errorInfos: (e.details ?? [])
      .filter((d) => d.type === 'google.rpc.ErrorInfo' && d.value)
      .map((d) => decodeErrorInfo(d.value as Uint8Array)),
  };
}

/** Runs `fn` and returns what it threw; fails when it did not throw. */
export async function thrownBy(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
