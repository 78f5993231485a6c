/**
 * The cryptography building block: `EncryptAlpha1`/`DecryptAlpha1` over gRPC streams and
 * `PUT /v1.0-alpha1/crypto/{name}/encrypt|decrypt` over HTTP, in Dapr's `dapr.io/enc/v1` format, with
 * the `crypto.*` components. The sidecar wires it with {@link CryptoBlock}, {@link cryptoRoutes} and
 * {@link cryptoGrpcMethods}.
 */
export { CryptoBlock, CryptoStreamError } from './crypto-block.js';
export type { CryptoComponents, DecryptRequest, EncryptRequest } from './crypto-block.js';
export { cryptoRoutes } from './http-routes.js';
export { cryptoGrpcMethods } from './grpc-methods.js';
export type { CryptoGrpcDeps } from './grpc-deps.js';
export { cryptoErrors } from './errors.js';
