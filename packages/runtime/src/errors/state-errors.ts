import { ApiError, GrpcCode } from './api-error.js';

/** State API errors (dapr `pkg/api/errors/state.go`, `pkg/messages/predefined.go`). */
export const stateErrors = {
  storeNotFound: (name: string, appId: string) =>
    new ApiError('ERR_STATE_STORE_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, `state store ${name} is not found`, {
      reason: 'DAPR_STATE_NOT_FOUND',
      reasonMetadata: { appID: appId },
    }),
  storesNotConfigured: (appId: string) =>
    new ApiError('ERR_STATE_STORE_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION, 'state store is not configured', {
      reason: 'DAPR_STATE_NOT_CONFIGURED',
      reasonMetadata: { appID: appId },
    }),
  illegalKey: (key: string) =>
    new ApiError(
      'ERR_MALFORMED_REQUEST',
      400,
      GrpcCode.INVALID_ARGUMENT,
      `input key/keyPrefix '${key}' can't contain '||'`,
      { reason: 'DAPR_STATE_ILLEGAL_KEY' },
    ),
  keyRequired: () => new ApiError('ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, '"key" is a required field'),
  get: (key: string, store: string, detail: string) =>
    new ApiError('ERR_STATE_GET', 500, GrpcCode.INTERNAL, `fail to get ${key} from state store ${store}: ${detail}`),
  bulkGet: (store: string, detail: string) =>
    new ApiError('ERR_STATE_BULK_GET', 500, GrpcCode.INTERNAL, `failed getting state in bulk from ${store}: ${detail}`),
  saveEtagMismatch: (store: string, detail: string) =>
    new ApiError('ERR_STATE_SAVE', 409, GrpcCode.ABORTED, `failed saving state in state store ${store}: ${detail}`),
  saveEtagInvalid: (store: string, detail: string) =>
    new ApiError('ERR_STATE_SAVE', 400, GrpcCode.INVALID_ARGUMENT, `failed saving state in state store ${store}: ${detail}`),
  save: (store: string, detail: string) =>
    new ApiError('ERR_STATE_SAVE', 500, GrpcCode.INTERNAL, `failed saving state in state store ${store}: ${detail}`),
  deleteEtagMismatch: (key: string, detail: string) =>
    new ApiError('ERR_STATE_DELETE', 409, GrpcCode.ABORTED, `failed deleting state with key ${key}: ${detail}`),
  deleteEtagInvalid: (key: string, detail: string) =>
    new ApiError('ERR_STATE_DELETE', 400, GrpcCode.INVALID_ARGUMENT, `failed deleting state with key ${key}: ${detail}`),
  delete: (key: string, detail: string) =>
    new ApiError('ERR_STATE_DELETE', 500, GrpcCode.INTERNAL, `failed deleting state with key ${key}: ${detail}`),
  transaction: (detail: string) =>
    new ApiError('ERR_STATE_TRANSACTION', 500, GrpcCode.INTERNAL, `error while executing state transaction: ${detail}`),
  unsupportedOperation: (op: string) =>
    new ApiError(
      'ERR_NOT_SUPPORTED_STATE_OPERATION',
      400,
      GrpcCode.UNIMPLEMENTED,
      `operation type ${op} not supported`,
    ),
  transactionsNotSupported: (store: string) =>
    new ApiError(
      'ERR_STATE_STORE_NOT_SUPPORTED',
      500,
      GrpcCode.UNIMPLEMENTED,
      `state store ${store} doesn't support transactions`,
      { reason: 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED' },
    ),
  tooManyTransactions: (store: string, max: number, got: number) =>
    new ApiError(
      'ERR_STATE_STORE_TOO_MANY_TRANSACTIONS',
      400,
      GrpcCode.INVALID_ARGUMENT,
      `the transaction contains ${got} operations, which is more than what state store ${store} supports: ${max}`,
      { reason: 'DAPR_STATE_TOO_MANY_TRANSACTIONS' },
    ),
  queryNotSupported: (store: string) =>
    new ApiError(
      'ERR_STATE_STORE_NOT_SUPPORTED',
      500,
      GrpcCode.UNIMPLEMENTED,
      `state store ${store} doesn't support querying`,
      { reason: 'DAPR_STATE_QUERYING_NOT_SUPPORTED' },
    ),
  query: (store: string, detail: string) =>
    new ApiError('ERR_STATE_QUERY', 500, GrpcCode.INTERNAL, `failed query in state store ${store}: ${detail}`, {
      reason: 'DAPR_STATE_QUERY_FAILED',
    }),
};
