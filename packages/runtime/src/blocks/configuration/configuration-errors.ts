/**
 * The configuration API's errors, as daprd 1.16 returns them (`pkg/api/http/http.go`,
 * `pkg/api/grpc/grpc.go`). Two differ by transport: an unknown store is HTTP 400 and gRPC
 * INVALID_ARGUMENT; a failed subscribe is HTTP 500 and gRPC INVALID_ARGUMENT.
 */
import { ApiError, GrpcCode } from '../../errors/api-error.js';

/** Keys as Go's `%s` prints a string slice: `[a b]`. */
const goList = (keys: readonly string[]) => `[${keys.join(' ')}]`;

/** Configuration API error factories. */
export const configurationErrors = {
  notConfigured: () =>
    new ApiError('ERR_CONFIGURATION_STORE_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION, 'configuration stores not configured'),
  notFound: (store: string) => new ApiError('ERR_CONFIGURATION_STORE_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, `configuration store ${store} not found`),
  get: (keys: readonly string[], store: string, detail: string, cause?: unknown) =>
    new ApiError('ERR_CONFIGURATION_GET', 500, GrpcCode.INTERNAL, `failed to get ${goList(keys)} from Configuration store ${store}: ${detail}`, { cause }),
  subscribe: (keys: readonly string[], store: string, detail: string, cause?: unknown) =>
    new ApiError('ERR_CONFIGURATION_SUBSCRIBE', 500, GrpcCode.INVALID_ARGUMENT, `failed to subscribe ${goList(keys)} from Configuration store ${store}: ${detail}`, {
      cause,
    }),
  /** The message of a failed unsubscribe (daprd answers it in the body, not as an error). */
  unsubscribeMessage: (id: string, detail: string) => `failed to unsubscribe to configuration request ${id}: ${detail}`,
  appChannelNil: () =>
    new ApiError('ERR_APP_CHANNEL_NIL', 500, GrpcCode.INTERNAL, 'app channel is not initialized. cannot subscribe to configuration updates'),
};
