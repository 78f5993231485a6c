import { ApiError, GrpcCode } from './api-error.js';
import type { GrpcCodeValue } from './api-error.js';

/** Service invocation errors (dapr `pkg/messages/predefined.go`, `ERR_DIRECT_INVOKE`). */
export const invokeErrors = {
  /** No target in the path, the `dapr-app-id` header or basic auth: 404. */
  noAppId: () =>
    new ApiError(
      'ERR_DIRECT_INVOKE',
      404,
      GrpcCode.NOT_FOUND,
      'failed getting app id either from the URL path or the header dapr-app-id',
    ),
  /** Resolution or transport failure toward the callee: 500, naming the app. */
  failed: (appId: string, detail: string, cause?: unknown) =>
    new ApiError('ERR_DIRECT_INVOKE', 500, GrpcCode.INTERNAL, `failed to invoke, id: ${appId}, err: ${detail}`, { cause }),
  /**
   * A resiliency policy stopped a gRPC invocation before any answer (timeout, open breaker). daprd
   * returns the policy's own error unwrapped, which grpc-go sends as DEADLINE_EXCEEDED for a timeout
   * and UNKNOWN otherwise, with the bare message (`context deadline exceeded`, `circuit breaker is open`).
   */
  policyStopped: (detail: string, grpcCode: GrpcCodeValue, cause?: unknown) => new ApiError('ERR_DIRECT_INVOKE', 500, grpcCode, detail, { cause }),
  /** The callee's access-control policy refused the caller: 403. */
  denied: (callee: string, caller: string, operation: string, verb: string) =>
    new ApiError(
      'ERR_DIRECT_INVOKE',
      403,
      GrpcCode.PERMISSION_DENIED,
      `failed to invoke, id: ${callee}, err: access control policy has denied access to appid: ${caller} operation: ${operation} verb: ${verb}`,
    ),
};
