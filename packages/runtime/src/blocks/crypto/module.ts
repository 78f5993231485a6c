/**
 * The cryptography block: `EncryptAlpha1`/`DecryptAlpha1` streams and the HTTP crypto API over the
 * `crypto.*` components (the SubtleCrypto API answers UNIMPLEMENTED, as in daprd release builds).
 */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { CryptoBlock } from './crypto-block.js';
import { cryptoGrpcMethods } from './grpc-methods.js';
import { cryptoRoutes } from './http-routes.js';

/** Encrypt and decrypt. */
export const cryptoModule: BlockModule<BlockInstance> = {
  name: 'crypto',
  dependsOn: [],
  componentKinds: ['crypto'],
  start: (ctx) => {
    const crypto = new CryptoBlock(ctx.components);
    const logger = ctx.logger.child('weft.runtime.crypto');
    return {
      httpRoutes: () => cryptoRoutes(crypto),
      grpcStreamingMethods: (server) =>
        cryptoGrpcMethods(crypto, { logger, authorized: (call) => server.authorized(call), allowed: (method) => server.allowed(method) }),
    };
  },
};
