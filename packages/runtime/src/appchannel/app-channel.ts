/**
 * The app channel: how the sidecar calls the app (service invocation, pub/sub delivery, input
 * bindings, job triggers, `/dapr/subscribe`, health probes). Building blocks depend on this contract,
 * not on a transport, so HTTP and gRPC apps are served by the same block code.
 *
 * Deliberately not in the contract: retries and timeouts (resiliency wraps calls from outside), and
 * gRPC `AppCallback` specifics (a gRPC channel implements the same calls through its own methods).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A request from the sidecar to the app. */
export interface AppRequest {
  method: string;
  /** Path on the app, starting with `/`, without the query string. */
  path: string;
  /** Raw query string without `?`, passed through unchanged. */
  query?: string;
  headers?: Record<string, string | string[]>;
  /** A stream is sent as it arrives (service invocation streams large bodies). */
  body?: Buffer | string | Readable;
  /** Aborts the call (timeouts, shutdown). */
  signal?: AbortSignal;
  /**
   * Which app callback this request is, for transports with a method per callback (gRPC
   * `AppCallback`). HTTP channels ignore it: the method and path already say it. Absent means
   * service invocation.
   */
  callback?: AppCallback;
}

/**
 * The app callbacks that are not service invocation: `subscriptions` (`GET /dapr/subscribe`),
 * `topic-event` (a CloudEvent POSTed to the route), `bulk-topic-event` (a bulk envelope POSTed to
 * the route), with the topic and pubsub the event was received on (the event's own `topic` field
 * names the original topic of a dead letter). Channels answer in the HTTP shapes of Dapr's HTTP app
 * contract.
 */
export type AppCallback = { kind: 'subscriptions' } | { kind: 'topic-event' | 'bulk-topic-event'; topic: string; pubsubName: string };

/** The app's answer. */
export interface AppResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The app's answer with its body still streaming. */
export interface AppStreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be consumed or destroyed. */
  body: Readable;
}

/** Thrown when the app cannot be reached (connection refused, reset, aborted). */
export class AppUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppUnreachableError';
  }
}

/** A channel to the app. */
export interface AppChannel {
  /** Sends one request; rejects with {@link AppUnreachableError} when the app cannot be reached. */
  call(request: AppRequest): Promise<AppResponse>;
  /**
   * Like {@link AppChannel.call} but hands back the body as a stream, so invocation does not buffer
   * large responses. Optional: callers fall back to `call`.
   */
  stream?(request: AppRequest): Promise<AppStreamResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
