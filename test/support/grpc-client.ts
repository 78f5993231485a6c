/**
 * A raw `@grpc/grpc-js` client of `dapr.proto.runtime.v1.Dapr`, built from Dapr's own protos, for
 * tests that need exact status codes rather than an SDK's interpretation of them.
 */
import * as grpc from '@grpc/grpc-js';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';

type Unary = (request: object, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: unknown) => void) => void;

/** The outcome of one unary call. */
export interface GrpcOutcome {
  reply?: Record<string, unknown>;
  error?: grpc.ServiceError;
}

/** A connected client; `call('GetState', {...})` never rejects. */
export interface DaprGrpcClient {
  call(method: string, request: object, metadata?: Record<string, string>): Promise<GrpcOutcome>;
  close(): void;
}

/** Connects to a sidecar's gRPC port. */
export function daprGrpcClient(port: number): DaprGrpcClient {
  const pkg = loadDaprRuntimePackage() as unknown as {
    dapr: { proto: { runtime: { v1: { Dapr: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } } } };
  };
  const client = new pkg.dapr.proto.runtime.v1.Dapr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    call: (method, request, headers = {}) =>
      new Promise((resolve) => {
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
        const fn = client[method];
        if (!fn) throw new Error(`no method ${method}`);
        fn.call(client, request, metadata, (error, reply) => resolve(error ? { error } : { reply: reply as Record<string, unknown> }));
      }),
    close: () => client.close(),
  };
}
