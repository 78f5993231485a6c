/**
 * The caller's app resiliency policy on gRPC proxying, applied as daprd's `pkg/grpc/proxy/handler.go`
 * applies it (only on the caller's side, with the breaker keyed `<appId>:<full method>`):
 *
 * - A call without a truthy `dapr-stream` header is unary: the timeout bounds the whole call, a non-OK
 *   status or an unreachable target is a failure the breaker counts, and retries send the request
 *   again. Retrying needs the request replayed, so under a retry policy the request is read first and
 *   may hold one message; a second one fails the call with FAILED_PRECONDITION, as in daprd.
 * - A call with `dapr-stream: true` is a stream: the policy covers only opening the stream to the
 *   target (daprd's "handshake"); what flows afterwards is between the client and the app.
 *
 * Answers pass through as they arrive: once the first response message has reached the caller the
 * call can no longer be retried. A failure before that (a trailers-only status, no connection) is
 * retried and, when the policy gives up, the last status goes back as the app sent it. The policy's
 * own errors reach the caller as grpc-go renders daprd's: DEADLINE_EXCEEDED `context deadline
 * exceeded` for a timeout, UNKNOWN `circuit breaker is open` for an open breaker.
 *
 * Deliberately not here: resolving the target and building the forwarded headers (`grpc-proxy.ts`
 * passes {@link UnderPolicyOptions.open}), and relaying a stream once it is open.
 */
import http2 from 'node:http2';
import { GrpcCode } from '../errors/index.js';
import { CircuitBreakerOpenError } from '../resiliency/circuit-breaker.js';
import { TimeoutError, markFinal } from '../resiliency/policy.js';
import type { PolicyRunner } from '../resiliency/policy.js';
import { StatusCodeError } from '../resiliency/retry.js';

/** Thrown by {@link UnderPolicyOptions.open} when the target cannot be reached; answered with its code. */
export class ProxyTargetError extends StatusCodeError {
  constructor(message: string, code: number = GrpcCode.UNAVAILABLE) {
    super(message, undefined, code);
    this.name = 'ProxyTargetError';
  }
}

/** A non-OK status answered before any response message; retried, and passed on as it is when retries end. */
class AnsweredStatusError extends StatusCodeError {
  constructor(
    readonly headers: http2.IncomingHttpHeaders,
    /** Undefined for a trailers-only answer (the status is in `headers`). */
    readonly trailers: http2.IncomingHttpHeaders | undefined,
    code: number,
  ) {
    super(`the target answered gRPC status ${code}`, undefined, code);
    this.name = 'AnsweredStatusError';
  }
}

/** What {@link proxyUnderPolicy} needs. */
export interface UnderPolicyOptions {
  /** The caller's stream. */
  stream: http2.ServerHttp2Stream;
  policy: PolicyRunner;
  /** The request's `dapr-stream` header (truthy = stream: the policy covers opening it only). */
  streamHeader: string;
  /** Resolves the target and opens the upstream request; throws {@link ProxyTargetError}. */
  open(): Promise<http2.ClientHttp2Stream>;
  /** Relays an opened stream both ways (the proxy's plain path), for `dapr-stream` calls. */
  relay(upstream: http2.ClientHttp2Stream): void;
}

/** The protocol's retry-on-streaming error, daprd's `errRetryOnStreamingRPC`. */
const RETRY_ON_STREAM = 'cannot use resiliency policies with retries on streaming RPCs';

/** dapr/kit `utils.IsTruthy`. */
export function isTruthy(value: string): boolean {
  return ['y', 'yes', 'true', 't', 'on', '1'].includes(value.trim().toLowerCase());
}

/** Answers the caller with a status and no message (trailers-only, or trailers if headers went out). */
function answerStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.closed) return;
  const status = { 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) };
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...status }, { endStream: true });
}

/** Trailers as they may be sent on (no pseudo-headers). */
function plain(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') && v !== undefined) out[k] = v;
  return out;
}

/** Reads the whole request (a unary call ends its half after one message). */
function readRequest(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('the caller went away')));
  });
}

/** Number of length-prefixed gRPC messages in a request body. */
function messageCount(body: Buffer): number {
  let count = 0;
  for (let at = 0; at + 5 <= body.length; count++) at += 5 + body.readUInt32BE(at + 1);
  return count;
}

/** The caller's side of one proxied unary call: what has been sent, and the trailers still to send. */
class CallerAnswer {
  /** True once response headers have gone to the caller: no retry after that. */
  committed = false;
  private trailers: http2.OutgoingHttpHeaders = { 'grpc-status': '0' };

  constructor(private readonly stream: http2.ServerHttp2Stream) {}

  get gone(): boolean {
    return this.stream.closed || this.stream.destroyed;
  }

  /** Sends the response headers (once). */
  commit(headers: http2.IncomingHttpHeaders): void {
    if (this.committed || this.gone) return;
    this.committed = true;
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
    this.stream.respond(headers, { waitForTrailers: true });
  }

  write(chunk: Buffer): void {
    if (!this.gone) this.stream.write(chunk);
  }

  /** Ends a committed answer with these trailers. */
  finish(trailers: http2.OutgoingHttpHeaders): void {
    if (this.gone) return;
    this.trailers = trailers;
    this.stream.end();
  }

  /** Answers an uncommitted call with a final failure (the policy's or the app's). */
  fail(err: unknown): void {
    if (this.committed || this.gone) return;
    if (err instanceof AnsweredStatusError) {
      if (!err.trailers) {
        this.committed = true;
        this.stream.respond(err.headers, { endStream: true });
        return;
      }
      this.commit(err.headers);
      this.finish(plain(err.trailers));
      return;
    }
    if (err instanceof TimeoutError) answerStatus(this.stream, GrpcCode.DEADLINE_EXCEEDED, err.message);
    else if (err instanceof CircuitBreakerOpenError) answerStatus(this.stream, GrpcCode.UNKNOWN, err.message);
    else if (err instanceof ProxyTargetError) answerStatus(this.stream, err.grpcStatusCode ?? GrpcCode.UNAVAILABLE, err.message);
    else answerStatus(this.stream, GrpcCode.INTERNAL, `failed to proxy request: ${(err as Error).message}`);
  }

  /**
   * Relays one attempt's answer. Resolves on an OK status; rejects with {@link AnsweredStatusError}
   * for a status before any message, {@link ProxyTargetError} for a broken connection, and a final
   * error when the answer had already started.
   */
  relay(upstream: http2.ClientHttp2Stream, signal: AbortSignal): Promise<void> {
    const live = () => !signal.aborted;
    return new Promise<void>((resolveOnce, rejectOnce) => {
      // 'close' follows 'end' and a status: only the first outcome counts.
      let settled = false;
      const resolve = () => {
        settled = true;
        resolveOnce();
      };
      const reject = (err: Error) => {
        if (settled) return;
        settled = true;
        rejectOnce(err);
      };
      let headers: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      upstream.on('response', (h) => {
        headers = h;
        if (h['grpc-status'] === undefined) return;
        // Trailers-only: the whole answer is in these headers.
        const code = Number(h['grpc-status']);
        if (code !== GrpcCode.OK) return reject(new AnsweredStatusError(h, undefined, code));
        if (live() && !this.gone) {
          this.committed = true;
          this.stream.respond(h, { endStream: true });
        }
        resolve();
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!live()) return;
        if (headers) this.commit(headers);
        this.write(chunk);
      });
      upstream.on('trailers', (t) => (trailers = t));
      upstream.on('end', () => {
        if (!headers || headers['grpc-status'] !== undefined) return;
        const code = Number(trailers?.['grpc-status'] ?? GrpcCode.UNKNOWN);
        if (!this.committed && code !== GrpcCode.OK) return reject(new AnsweredStatusError(headers, trailers ?? {}, code));
        if (live()) {
          this.commit(headers);
          this.finish(plain(trailers ?? { 'grpc-status': String(code) }));
        }
        if (code === GrpcCode.OK) resolve();
        else reject(markFinal(new StatusCodeError(`the target answered gRPC status ${code}`, undefined, code)));
      });
      const broken = (message: string) => {
        if (settled) return;
        if (this.committed) {
          if (live() && !this.gone) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          reject(markFinal(new Error(message)));
        } else reject(new ProxyTargetError(`failed to proxy request: ${message}`));
      };
      upstream.on('error', (err) => broken(err.message));
      upstream.on('close', () => broken('the stream to the target closed without an answer'));
    });
  }

  /** A timed-out attempt: cut the upstream; an answer already under way ends with DEADLINE_EXCEEDED. */
  timedOut(upstream: http2.ClientHttp2Stream): void {
    if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
    if (this.committed) this.finish({ 'grpc-status': String(GrpcCode.DEADLINE_EXCEEDED), 'grpc-message': encodeURIComponent('context deadline exceeded') });
  }
}

/** Waits until the upstream stream is open (its HEADERS are on the wire). */
function opened(upstream: http2.ClientHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (upstream.id !== undefined) return resolve();
    upstream.once('ready', () => resolve());
    upstream.once('error', (err) => reject(new ProxyTargetError(`failed to proxy request: ${err.message}`)));
    upstream.once('close', () => reject(new ProxyTargetError('failed to proxy request: the stream to the target closed')));
  });
}

/** Proxies one call under the caller's app policy. Never throws: every outcome is answered on `stream`. */
export async function proxyUnderPolicy(options: UnderPolicyOptions): Promise<void> {
  const { stream, policy } = options;
  const caller = new CallerAnswer(stream);
  if (isTruthy(options.streamHeader)) {
    let upstream: http2.ClientHttp2Stream;
    try {
      upstream = await policy.execute(async ({ signal }) => {
        const attempt = await options.open();
        if (signal.aborted) attempt.close(http2.constants.NGHTTP2_CANCEL);
        else signal.addEventListener('abort', () => attempt.close(http2.constants.NGHTTP2_CANCEL), { once: true });
        await opened(attempt);
        return attempt;
      });
    } catch (err) {
      caller.fail(err);
      return;
    }
    options.relay(upstream);
    return;
  }
  let body: Buffer | undefined;
  if (policy.retryPolicy) {
    try {
      body = await readRequest(stream);
    } catch {
      return; // The caller went away before its request was complete.
    }
    if (messageCount(body) > 1) {
      answerStatus(stream, GrpcCode.FAILED_PRECONDITION, RETRY_ON_STREAM);
      return;
    }
  }
  // A caller that gives up cancels the attempt under way.
  let current: http2.ClientHttp2Stream | undefined;
  stream.once('close', () => {
    if (current && !current.closed) current.close(http2.constants.NGHTTP2_CANCEL);
  });
  try {
    await policy.execute(async ({ signal }) => {
      if (caller.committed || caller.gone) throw markFinal(new Error('the call was answered or abandoned'));
      const upstream = await options.open();
      current = upstream;
      // The timeout may have fired while the target was being resolved.
      if (signal.aborted) caller.timedOut(upstream);
      else signal.addEventListener('abort', () => caller.timedOut(upstream), { once: true });
      if (body) upstream.end(body);
      else stream.pipe(upstream);
      await caller.relay(upstream, signal);
    });
  } catch (err) {
    caller.fail(err);
  }
}
