/**
 * The distributed lock building block: `TryLockAlpha1` / `UnlockAlpha1` over HTTP and gRPC, on the
 * `lock.*` components (`components/lock/`).
 */
import type { ComponentManager } from '../../components/manager.js';
import type { BlockModule } from '../module.js';
import { LockBlock } from './lock-block.js';
import { lockGrpcMethods } from './lock-grpc.js';
import { lockRoutes } from './lock-http.js';

export { LockBlock } from './lock-block.js';

/** The lock block as a sidecar module; throws when a lock store's `keyPrefix` is invalid. */
export function lockModule(deps: { components: ComponentManager; appId: string }): BlockModule & { block: LockBlock } {
  const block = new LockBlock(deps.components, deps.appId);
  return { name: 'lock', block, httpRoutes: lockRoutes(block), grpcUnary: lockGrpcMethods(block) };
}
