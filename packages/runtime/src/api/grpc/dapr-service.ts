/**
 * `dapr.proto.runtime.v1.Dapr`, registered once with the methods of every building block (each block
 * module's `grpcMethods()`, see `blocks/block-module.ts`). Methods no block provides answer
 * UNIMPLEMENTED, which grpc-js does for any method left out of the implementation.
 */
import type * as grpc from '@grpc/grpc-js';
import { lazyDaprService } from './protos.js';
import type { GrpcApiServer } from './server.js';

/** A unary handler of the Dapr service: the decoded request in, the reply object (or a thrown `ApiError`) out. */
export type DaprUnaryHandler = (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>;

/** Unary handlers of the Dapr service by method name (`GetState`); a block's part of the service. */
export type DaprGrpcMethods = Record<string, DaprUnaryHandler>;

/**
 * Registers the Dapr service on the gRPC server with the given unary methods (wrapped with token,
 * allow-list, error, metrics and tracing handling) and streaming methods (passed through as they are).
 */
export function registerDaprGrpcService(server: GrpcApiServer, methods: DaprGrpcMethods, streaming: grpc.UntypedServiceImplementation = {}): void {
  server.addUnaryService(lazyDaprService(), methods, streaming);
}

/** The call's trace context (the API span's, see `observability/grpc-spans.ts`) as W3C headers. */
export function traceOf(call: grpc.ServerUnaryCall<unknown, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const [value] = call?.metadata.get(name) ?? [];
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}
