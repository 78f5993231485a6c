/**
 * The SubtleCrypto API (`/v1.0-alpha1/subtlecrypto/{name}/…`, `Subtle*Alpha1`). daprd builds it only
 * behind its `subtlecrypto` build tag; release builds route every call to "this API is currently not
 * implemented" (501 / UNIMPLEMENTED). Weft answers the same, so an app that works on Weft works on
 * Dapr. The providers already offer `getKey` should this API ever ship in Dapr.
 */
import type * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../../api/grpc/server.js';
import type { HttpRoute } from '../../api/http/types.js';
import { ApiError, GrpcCode, commonErrors } from '../../errors/index.js';
import type { CryptoGrpcDeps } from './grpc-deps.js';

const OPERATIONS = [
  ['getkey', 'GetKey'],
  ['encrypt', 'Encrypt'],
  ['decrypt', 'Decrypt'],
  ['wrapkey', 'WrapKey'],
  ['unwrapkey', 'UnwrapKey'],
  ['sign', 'Sign'],
  ['verify', 'Verify'],
] as const;

/** daprd's `ErrAPIUnimplemented`. */
export const apiUnimplemented = () => new ApiError('ERR_API_UNIMPLEMENTED', 501, GrpcCode.UNIMPLEMENTED, 'this API is currently not implemented');

/** The subtle crypto HTTP routes, each answering {@link apiUnimplemented}. */
export function subtleCryptoRoutes(): HttpRoute[] {
  return OPERATIONS.map(([path, name]) => ({
    methods: ['POST'],
    path: `/v1.0-alpha1/subtlecrypto/:name/${path}`,
    group: 'subtlecrypto',
    name: `Subtle${name}`,
    handler: () => {
      throw apiUnimplemented();
    },
  }));
}

/** The `Subtle*Alpha1` unary methods, each answering {@link apiUnimplemented} after the usual checks. */
export function subtleCryptoGrpcMethods(deps: CryptoGrpcDeps): grpc.UntypedServiceImplementation {
  const methods: grpc.UntypedServiceImplementation = {};
  for (const [, name] of OPERATIONS) {
    const method = `Subtle${name}Alpha1`;
    methods[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const err = !deps.authorized(call)
        ? commonErrors.invalidToken()
        : deps.allowed && !deps.allowed(method)
          ? commonErrors.apiNotAllowed(`/dapr.proto.runtime.v1.Dapr/${method}`)
          : apiUnimplemented();
      callback(toGrpcError(err, deps.logger));
    };
  }
  return methods;
}
