/**
 * The gRPC API server: one h2c port hosting `dapr.proto.runtime.v1.Dapr` and, in later issues, the
 * durabletask `TaskHubSidecarService`. Services register here; token enforcement and error rendering
 * are shared by all of them.
 */
import * as grpc from '@grpc/grpc-js';
import { ApiError, commonErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import { interceptRawStreams } from './raw-streams.js';
import type { RawStreamHandler } from './raw-streams.js';

/** Options of {@link GrpcApiServer}. */
export interface GrpcApiServerOptions {
  logger: Logger;
  apiToken?: string;
  /** Largest message accepted, in bytes. */
  maxMessageBytes: number;
  /** Sees every raw stream before grpc-js routes it (gRPC proxying by `dapr-app-id`). */
  rawStreamHandler?: RawStreamHandler;
}

/** Converts any thrown value to a gRPC status error. */
export function toGrpcError(err: unknown, logger: Logger): grpc.ServiceError {
  const api =
    err instanceof ApiError ? err : commonErrors.internal(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  if (!(err instanceof ApiError)) {
    logger.error('unexpected error while serving a gRPC call', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  const metadata = new grpc.Metadata();
  metadata.set('dapr-error-code', api.code);
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
    const [given] = call.metadata.get('dapr-api-token');
    return given === this.options.apiToken;
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
    for (const [name, handler] of Object.entries(handlers)) {
      implementation[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (!this.authorized(call)) {
          callback(toGrpcError(commonErrors.invalidToken(), this.options.logger));
          return;
        }
        handler(call.request as never, call).then(
          (reply) => callback(null, reply),
          (err: unknown) => callback(toGrpcError(err, this.options.logger)),
        );
      };
    }
    this.server.addService(definition, implementation);
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
