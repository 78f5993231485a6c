/**
 * What a building block contributes to the sidecar, so wiring it is a registration rather than edits
 * across the HTTP server, the gRPC service and the shutdown sequence (STYLE.md #17). A stand-in for
 * the sidecar's block-module contract: the configuration and lock blocks are written against it.
 */
import type * as grpc from '@grpc/grpc-js';
import type { HttpRoute } from '../api/http/types.js';
import type { GrpcApiServer } from '../api/grpc/server.js';

/** A unary handler of the Dapr gRPC service (request in, reply out; errors are `ApiError`s). */
export type GrpcUnaryHandler = (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>;

/** One building block's routes, RPCs and lifecycle. */
export interface BlockModule {
  /** For logs, e.g. `lock`. */
  readonly name: string;
  /** HTTP routes (filtered by the Configuration's API allow-list like every other route). */
  readonly httpRoutes: readonly HttpRoute[];
  /** Unary RPCs of `dapr.proto.runtime.v1.Dapr`. */
  readonly grpcUnary: Readonly<Record<string, GrpcUnaryHandler>>;
  /** Streaming RPCs of `dapr.proto.runtime.v1.Dapr`; they check the API token themselves. */
  grpcStreaming?(server: GrpcApiServer): grpc.UntypedServiceImplementation;
  /** Stops background work (subscriptions); called before components close. */
  stop?(): Promise<void>;
}
