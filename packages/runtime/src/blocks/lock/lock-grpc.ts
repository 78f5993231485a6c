/** `TryLockAlpha1` and `UnlockAlpha1` of the Dapr gRPC service over the {@link LockBlock}. */
import type { LockBlock } from './lock-block.js';

interface ProtoLockRequest {
  store_name?: string;
  resource_id?: string;
  lock_owner?: string;
  expiry_in_seconds?: number;
}

/** The lock RPCs. */
export function lockGrpcMethods(lock: LockBlock): Record<string, (request: never) => Promise<unknown>> {
  return {
    TryLockAlpha1: async (req: ProtoLockRequest) => ({
      success: await lock.tryLock({
        storeName: req.store_name ?? '',
        resourceId: req.resource_id ?? '',
        lockOwner: req.lock_owner ?? '',
        expiryInSeconds: req.expiry_in_seconds ?? 0,
      }),
    }),
    UnlockAlpha1: async (req: ProtoLockRequest) => ({
      status: await lock.unlock({ storeName: req.store_name ?? '', resourceId: req.resource_id ?? '', lockOwner: req.lock_owner ?? '' }),
    }),
  };
}
