import { ApiError, GrpcCode } from './api-error.js';

/**
 * Bindings API errors (dapr `pkg/api/http/http.go` onOutputBindingMessage, `pkg/messages/predefined.go`).
 * Dapr answers every failure after decoding with 500 ERR_INVOKE_OUTPUT_BINDING and a message that
 * names the binding, including an unknown binding or a missing operation.
 */
export const bindingErrors = {
  malformedRequest: (detail: string) =>
    new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `failed deserializing HTTP body: ${detail}`),
  malformedData: (detail: string) =>
    new ApiError('ERR_MALFORMED_REQUEST_DATA', 500, GrpcCode.INTERNAL, `can't serialize request data field: ${detail}`),
  invoke: (name: string, detail: string, cause?: unknown) =>
    new ApiError('ERR_INVOKE_OUTPUT_BINDING', 500, GrpcCode.INTERNAL, `error invoking output binding ${name}: ${detail}`, {
      cause,
    }),
};
