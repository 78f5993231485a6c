import { ApiError, GrpcCode } from './api-error.js';

/** Secrets API errors. Note Dapr answers an unknown store with 401, not 400 (reference §7.2). */
export const secretErrors = {
  storesNotConfigured: () =>
    new ApiError('ERR_SECRET_STORES_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION, 'secret store is not configured'),
  storeNotFound: (name: string) =>
    new ApiError('ERR_SECRET_STORE_NOT_FOUND', 401, GrpcCode.INVALID_ARGUMENT, `failed finding secret store with key ${name}`),
  permissionDenied: (key: string, store: string) =>
    new ApiError(
      'ERR_PERMISSION_DENIED',
      403,
      GrpcCode.PERMISSION_DENIED,
      `access denied by policy to get "${key}" from "${store}"`,
    ),
  get: (key: string, store: string, detail: string) =>
    new ApiError('ERR_SECRET_GET', 500, GrpcCode.INTERNAL, `failed getting secret with key ${key} from secret store ${store}: ${detail}`),
  bulkGet: (store: string, detail: string) =>
    new ApiError('ERR_SECRET_GET', 500, GrpcCode.INTERNAL, `failed getting secrets from secret store ${store}: ${detail}`),
};
