/** Errors of the cryptography API, as daprd's `pkg/messages` spells them. */
import { ApiError, GrpcCode } from '../../errors/index.js';

/** Cryptography API errors (codes, statuses and messages as daprd's). */
export const cryptoErrors = {
  providersNotConfigured: () =>
    new ApiError('ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED', 500, GrpcCode.INTERNAL, 'crypto providers not configured'),
  providerNotFound: (name: string) =>
    new ApiError('ERR_CRYPTO_PROVIDER_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, `crypto provider ${name} not found`),
  /** A failed encryption or decryption; `detail` is the scheme's reason. */
  operation: (detail: string) => new ApiError('ERR_CRYPTO', 500, GrpcCode.INTERNAL, `failed to perform operation: ${detail}`),
  /** daprd's `ErrBadRequest` (`invalid request: …`). */
  badRequest: (detail: string) => new ApiError('ERR_BAD_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, `invalid request: ${detail}`),
};

/** A failure while an HTTP body was being encrypted or decrypted: daprd's generic `ERROR` (500). */
export const httpStreamFailure = (detail: string) => new ApiError('ERROR', 500, GrpcCode.INTERNAL, detail);
