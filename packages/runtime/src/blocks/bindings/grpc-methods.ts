/** `InvokeBinding` of the Dapr gRPC service over the {@link OutputBindings}. */
import type * as grpc from '@grpc/grpc-js';
import type { DaprGrpcMethods } from '../../api/grpc/dapr-service.js';
import { traceOf } from '../../api/grpc/dapr-service.js';
import type { OutputBindings } from './output.js';

type StringMap = Record<string, string>;

/** `InvokeBinding` over the output bindings block (data passes through as bytes, unlike HTTP). */
export function bindingMethods(bindings: OutputBindings): DaprGrpcMethods {
  return {
    InvokeBinding: async (req: { name: string; data?: Buffer; metadata?: StringMap; operation: string }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
      const response = await bindings.invoke(req.name, {
        operation: req.operation ?? '',
        data: req.data ?? Buffer.alloc(0),
        // Trace context travels to the component in metadata, as over HTTP.
        metadata: { ...traceOf(call), ...(req.metadata ?? {}) },
      });
      return { data: response?.data ?? Buffer.alloc(0), metadata: response?.metadata ?? {} };
    },
  };
}
