/**
 * The distributed lock API's errors, as daprd 1.16 returns them (`pkg/messages/predefined.go`): bad
 * input is `ERR_MALFORMED_REQUEST`, a missing store `ERR_LOCK_STORE_NOT_FOUND` (400), no lock store at
 * all `ERR_LOCK_STORE_NOT_CONFIGURED` (500), a failing store `ERR_TRY_LOCK` / `ERR_UNLOCK` (500).
 */
import { ApiError, GrpcCode } from '../../errors/api-error.js';

/** Lock API error factories. */
export const lockErrors = {
  notConfigured: () => new ApiError('ERR_LOCK_STORE_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION, 'lock store is not configured'),
  notFound: (store: string) => new ApiError('ERR_LOCK_STORE_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, `lock store ${store} not found`),
  resourceIdEmpty: (store: string) => new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `ResourceId is empty in lock store ${store}`),
  ownerEmpty: (store: string) => new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `LockOwner is empty in lock store ${store}`),
  expiryNotPositive: (store: string) =>
    new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `ExpiryInSeconds is not positive in lock store ${store}`),
  tryLock: (detail: string, cause?: unknown) =>
    new ApiError('ERR_TRY_LOCK', 500, GrpcCode.INTERNAL, `failed to try acquiring lock: ${detail}`, { cause }),
  unlock: (detail: string, cause?: unknown) => new ApiError('ERR_UNLOCK', 500, GrpcCode.INTERNAL, `failed to release lock: ${detail}`, { cause }),
};
