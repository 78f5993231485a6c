/**
 * The bindings block: output bindings (`POST /v1.0/bindings/{name}`, gRPC `InvokeBinding`) and input
 * bindings, which deliver to the app once it is discovered (HTTP routes, or the gRPC callbacks).
 */
import type { BlockInstance, BlockModule } from '../block-module.js';
import { stateModule } from '../state/module.js';
import { httpBindingTransport } from './app-transport.js';
import { bindingMethods } from './grpc-methods.js';
import { bindingsRoutes } from './http-routes.js';
import { InputBindingsRunner } from './input.js';
import { OutputBindings } from './output.js';

/** A running bindings block. */
export interface BindingsBlockInstance extends BlockInstance {
  /** Output bindings (also used for input-binding replies). */
  readonly output: OutputBindings;
  /** Input bindings delivering to the app. */
  readonly inputBindings: InputBindingsRunner;
}

/** Input and output bindings. */
export const bindingsModule: BlockModule<BindingsBlockInstance> = {
  name: 'bindings',
  // Input bindings may answer with state to save.
  dependsOn: ['state'],
  componentKinds: ['bindings'],
  start: (ctx) => {
    const { components, metrics } = ctx;
    const output = new OutputBindings({ components, resiliency: () => ctx.resiliency, tracer: () => ctx.tracer, ...(metrics ? { metrics } : {}) });
    const inputBindings = new InputBindingsRunner({
      components,
      output,
      state: ctx.use(stateModule).state,
      logger: ctx.logger.child('weft.runtime.bindings'),
      resiliency: () => ctx.resiliency,
      ...(metrics ? { metrics } : {}),
      tracer: () => ctx.tracer,
    });
    return {
      output,
      inputBindings,
      httpRoutes: () => bindingsRoutes(output),
      grpcMethods: () => bindingMethods(output),
      appDiscovered: ({ channel, grpcCallbacks }) => void inputBindings.start(grpcCallbacks ?? httpBindingTransport(channel)),
      stop: () => inputBindings.stop(),
    };
  },
};
