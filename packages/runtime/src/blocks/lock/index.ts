/**
 * The distributed lock building block: `TryLockAlpha1` / `UnlockAlpha1` over HTTP and gRPC, on the
 * `lock.*` components (`components/lock/`).
 */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { LockBlock } from './lock-block.js';
import { lockGrpcMethods } from './lock-grpc.js';
import { lockRoutes } from './lock-http.js';

export { LockBlock } from './lock-block.js';

/** A running lock block. */
export interface LockBlockInstance extends BlockInstance {
  readonly block: LockBlock;
}

/** Distributed locks; start-up fails when a lock store's `keyPrefix` is invalid. */
export const lockModule: BlockModule<LockBlockInstance> = {
  name: 'lock',
  dependsOn: [],
  componentKinds: ['lock'],
  start: (ctx) => {
    const block = new LockBlock(ctx.components, ctx.options.appId);
    return { block, httpRoutes: () => lockRoutes(block), grpcMethods: () => lockGrpcMethods(block) };
  },
};
