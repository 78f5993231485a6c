/**
 * The gRPC API server: one h2c port hosting `dapr.proto.runtime.v1.Dapr` and, in later issues, the
 * durabletask `TaskHubSidecarService`. Services register here; token enforcement and error rendering
 * are shared by all of them.
 */
import * as grpc from '@grpc/grpc-js';
import { ApiError, commonErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import { STATUS_DETAILS_KEY, encodeRichStatus } from './rich-status.js';
import { interceptRawStreams } from './raw-streams.js';
import type { RawStreamHandler } from './raw-streams.js';
import type { Tracer } from '../../observability/tracing.js';
import { traceGrpcCall } from '../../observability/grpc-spans.js';
import { tokenMatches } from '../../security/api-token.js';

/** Options of {@link GrpcApiServer}. */
export interface GrpcApiServerOptions {
  logger: Logger;
  apiToken?: string;
  /** Largest message accepted, in bytes. */
  maxMessageBytes: number;
  /** Configuration `api.allowed`/`api.denied`: false answers PERMISSION_DENIED. Gets the method name (`GetState`). */
  methodAllowed?: (method: string) => boolean;
  /** Told about every finished unary call (metrics). */
  observer?: (call: GrpcCallRecord) => void;
  /** Told about every API error a call is answered with (`dapr_error_code_total`). */
  onApiError?: (err: ApiError) => void;
  /** Sees every raw stream before grpc-js routes it (gRPC proxying by `dapr-app-id`). */
  rawStreamHandler?: RawStreamHandler;
  /** A SERVER span per unary call; handlers find its context as `traceparent` in the call's metadata. */
  tracer?: Pick<Tracer, 'startSpan'> | undefined;
}

/** What the observer learns about a finished call. */
export interface GrpcCallRecord {
  /** `/dapr.proto.runtime.v1.Dapr/GetState`. */
  fullMethod: string;
  /** Canonical status name: `OK`, `NOT_FOUND` … */
  status: string;
  /** Numeric status code. */
  code: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

const STATUS_NAMES = new Map<number, string>(
  Object.entries(grpc.status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/**
 * Converts any thrown value to a gRPC status error. An error with an ErrorInfo reason also carries
 * `grpc-status-details-bin` (a `google.rpc.Status`), as daprd's rich errors do. `onApiError` sees
 * the API error the caller gets.
 */
export function toGrpcError(err: unknown, logger: Logger, onApiError?: (err: ApiError) => void): grpc.ServiceError {
  const api =
    err instanceof ApiError ? err : commonErrors.internal(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  if (!(err instanceof ApiError)) {
    logger.error('unexpected error while serving a gRPC call', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  onApiError?.(api);
  const metadata = new grpc.Metadata();
  metadata.set('dapr-error-code', api.code);
  const details = encodeRichStatus(api);
  if (details) metadata.set(STATUS_DETAILS_KEY, details);
  return Object.assign(new Error(api.message), { code: api.grpcCode, details: api.message, metadata }) as grpc.ServiceError;
}

/** The sidecar's gRPC API server. */
export class GrpcApiServer {
  private readonly server: grpc.Server;

  constructor(private readonly options: GrpcApiServerOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': 128 * 1024 * 1024,
    });
    if (options.rawStreamHandler) interceptRawStreams(this.server, options.rawStreamHandler);
  }

  /** True when the call carries the configured `dapr-api-token` (or none is configured). */
  authorized(call: { metadata: grpc.Metadata }): boolean {
    if (!this.options.apiToken) return true;
    return tokenMatches(this.options.apiToken, call.metadata.get('dapr-api-token'));
  }

  /**
   * Whether the Configuration's API allow-list admits a Dapr RPC (`EncryptAlpha1`): unary methods are
   * checked here already; streaming handlers registered as they are ask this themselves.
   */
  allowed(method: string): boolean {
    return this.options.methodAllowed?.(method) ?? true;
  }

  /**
   * Registers a service whose unary handlers are plain async functions; each is wrapped with token
   * enforcement and error conversion. Streaming handlers are passed through `streaming` untouched.
   */
  addUnaryService(
    definition: grpc.ServiceDefinition,
    handlers: Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>>,
    streaming: grpc.UntypedServiceImplementation = {},
  ): void {
    const implementation: grpc.UntypedServiceImplementation = { ...streaming };
    const { observer, methodAllowed, tracer, onApiError, logger } = this.options;
    // Message sizes for the observer are taken where grpc-js (de)serialises anyway, never by encoding
    // a message a second time: requests by object as they are decoded, a reply as it is encoded
    // (synchronously inside the callback; a reply grpc-js never encodes counts 0 bytes).
    const requestBytes = new WeakMap<object, number>();
    const encoded: { reply: unknown; bytes: number } = { reply: undefined, bytes: 0 };
    const served: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
    if (observer) {
      for (const name of Object.keys(handlers)) {
        const method = definition[name];
        if (!method) continue;
        served[name] = {
          ...method,
          requestDeserialize: (bytes: Buffer) => {
            const value: unknown = method.requestDeserialize(bytes);
            if (typeof value === 'object' && value !== null) requestBytes.set(value, bytes.length);
            return value;
          },
          responseSerialize: (value: unknown) => {
            const bytes = method.responseSerialize(value);
            encoded.reply = value;
            encoded.bytes = bytes.length;
            return bytes;
          },
        };
      }
    }
    const fail = (err: unknown) => toGrpcError(err, logger, onApiError);
    for (const [name, handler] of Object.entries(handlers)) {
      const method = definition[name];
      const fullMethod = method?.path ?? name;
      implementation[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, rawCallback: grpc.sendUnaryData<unknown>) => {
        let callback = rawCallback;
        if (observer && method) {
          const started = performance.now();
          callback = (err, reply) => {
            const durationMs = performance.now() - started;
            encoded.reply = undefined;
            rawCallback(err, reply);
            const responseBytes = !err && reply !== undefined && encoded.reply === reply ? encoded.bytes : 0;
            encoded.reply = undefined;
            const request: unknown = call.request;
            const bytesIn = typeof request === 'object' && request !== null ? (requestBytes.get(request) ?? 0) : 0;
            const code = err?.code ?? 0;
            observer({ fullMethod, status: STATUS_NAMES.get(code) ?? 'UNKNOWN', code, durationMs, requestBytes: bytesIn, responseBytes });
          };
        }
        if (tracer) {
          const traced = traceGrpcCall(tracer, fullMethod, call);
          const next = callback;
          callback = (err, reply) => {
            traced.end(call.request, err);
            next(err, reply);
          };
        }
        if (!this.authorized(call)) {
          callback(fail(commonErrors.invalidToken()));
          return;
        }
        if (methodAllowed && !methodAllowed(name)) {
          callback(fail(commonErrors.apiNotAllowed(fullMethod)));
          return;
        }
        handler(call.request as never, call).then(
          (reply) => callback(null, reply),
          (err: unknown) => callback(fail(err)),
        );
      };
    }
    this.server.addService(served as grpc.ServiceDefinition, implementation);
  }

  /** Registers a service implementation as is (it must check tokens itself via {@link authorized}). */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(definition, implementation);
  }

  /** Binds the port (h2c) and resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(err);
        else resolve(bound);
      });
    });
  }

  /** Stops the server, cancelling calls still open after a grace period. */
  close(graceMs = 2000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
