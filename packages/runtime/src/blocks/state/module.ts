/** The state block: `/v1.0/state/...` and the state RPCs over the state stores. */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { stateMethods } from './grpc-methods.js';
import { stateRoutes } from './http-routes.js';
import { StateBlock } from './state-block.js';

/** A running state block. */
export interface StateBlockInstance extends BlockInstance {
  readonly state: StateBlock;
}

/** State management. */
export const stateModule: BlockModule<StateBlockInstance> = {
  name: 'state',
  dependsOn: [],
  componentKinds: ['state'],
  start: (ctx) => {
    const state = new StateBlock(ctx.components, ctx.options.appId, ctx.options.namespace);
    return {
      state,
      httpRoutes: () => stateRoutes(state),
      grpcMethods: () => stateMethods(state),
    };
  },
};
