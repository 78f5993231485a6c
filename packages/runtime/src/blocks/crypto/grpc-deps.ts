/** The dependencies of the crypto gRPC handlers, apart so `subtle.ts` and `grpc-methods.ts` need not import each other. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../logging/logger.js';

/** What the crypto stream and subtle handlers need from the gRPC server. */
export interface CryptoGrpcDeps {
  logger: Logger;
  /** True when the call carries the right `dapr-api-token` (or none is configured). */
  authorized(call: { metadata: grpc.Metadata }): boolean;
  /** Configuration `api.allowed`/`api.denied` for a method name (`EncryptAlpha1`). */
  allowed?(method: string): boolean;
  /** @default 5000 */
  firstChunkTimeoutMs?: number;
}
