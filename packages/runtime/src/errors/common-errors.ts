import { ApiError, GrpcCode } from './api-error.js';

/** Errors shared by every building block (dapr `pkg/messages/predefined.go`). */
export const commonErrors = {
  malformedRequest: (detail: string, reason?: string) =>
    new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, detail, reason ? { reason } : {}),
  bodyRead: (detail: string) => new ApiError('ERR_BODY_READ', 400, GrpcCode.INVALID_ARGUMENT, detail),
  bodyTooLarge: (limitBytes: number) =>
    new ApiError(
      'ERR_BODY_READ',
      413,
      GrpcCode.RESOURCE_EXHAUSTED,
      `failed to read request body: request body too large (limit ${limitBytes} bytes)`,
    ),
  badRequest: (detail: string) => new ApiError('ERR_BAD_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, detail),
  notFound: (method: string, path: string) =>
    new ApiError('ERR_NOT_FOUND', 404, GrpcCode.NOT_FOUND, `no route for ${method} ${path}`),
  methodNotAllowed: (method: string, path: string) =>
    new ApiError('ERR_METHOD_NOT_ALLOWED', 405, GrpcCode.UNIMPLEMENTED, `method ${method} is not allowed on ${path}`),
  unimplemented: (api: string) =>
    new ApiError('ERR_API_UNIMPLEMENTED', 501, GrpcCode.UNIMPLEMENTED, `${api} API is not implemented by Weft yet`),
  internal: (detail: string, cause?: unknown) =>
    new ApiError('ERR_INTERNAL', 500, GrpcCode.INTERNAL, detail, { cause }),
  /** A gRPC method disabled by the Configuration's `api.allowed`/`api.denied`. */
  apiNotAllowed: (fullMethod: string) =>
    new ApiError('ERR_PERMISSION_DENIED', 403, GrpcCode.PERMISSION_DENIED, `access to method ${fullMethod} is not allowed`),
  invalidToken: () => new ApiError('ERR_UNAUTHENTICATED', 401, GrpcCode.UNAUTHENTICATED, 'invalid api token'),
  healthNotReady: () =>
    new ApiError('ERR_HEALTH_NOT_READY', 500, GrpcCode.UNAVAILABLE, 'dapr is not ready'),
  outboundHealthNotReady: () =>
    new ApiError('ERR_OUTBOUND_HEALTH_NOT_READY', 500, GrpcCode.UNAVAILABLE, 'dapr outbound is not ready'),
  healthAppIdMismatch: () =>
    new ApiError('ERR_HEALTH_APPID_NOT_MATCH', 500, GrpcCode.INVALID_ARGUMENT, 'dapr app-id does not match'),
};
