/**
 * Runs the building blocks of one sidecar: orders them by their dependencies, starts them, collects
 * what they serve (routes, gRPC methods, hooks) and stops them in reverse order. Generic: it knows the
 * {@link BlockModule} shape, never a particular block.
 */
import type * as grpc from '@grpc/grpc-js';
import type { DaprGrpcMethods } from '../api/grpc/dapr-service.js';
import type { GrpcApiServer } from '../api/grpc/server.js';
import type { RawStreamHandler } from '../api/grpc/raw-streams.js';
import type { FallbackHandler } from '../api/http/server.js';
import type { HttpRoute } from '../api/http/types.js';
import type { BlockContext, BlockInstance, BlockModule } from '../blocks/block-module.js';
import type { Logger } from '../logging/logger.js';

/**
 * The start order: the given order, except that a block moves after every block it depends on. Throws
 * on a duplicate name, a dependency that is not listed, or a cycle (programming errors).
 */
export function startOrder(modules: readonly BlockModule[]): BlockModule[] {
  const byName = new Map<string, BlockModule>();
  for (const m of modules) {
    if (byName.has(m.name)) throw new Error(`building block "${m.name}" is registered twice`);
    byName.set(m.name, m);
  }
  for (const m of modules) {
    for (const dep of m.dependsOn) if (!byName.has(dep)) throw new Error(`building block "${m.name}" depends on "${dep}", which is not registered`);
  }
  const ordered: BlockModule[] = [];
  const placed = new Set<string>();
  while (ordered.length < modules.length) {
    // The first block (in the given order) whose dependencies are all placed: stable and deterministic.
    const next = modules.find((m) => !placed.has(m.name) && m.dependsOn.every((d) => placed.has(d)));
    if (!next) {
      const stuck = modules.filter((m) => !placed.has(m.name)).map((m) => m.name);
      throw new Error(`building blocks depend on each other in a cycle: ${stuck.join(', ')}`);
    }
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

/** The component kinds some block serves. */
export function servedKinds(modules: readonly BlockModule[]): Set<string> {
  return new Set(modules.flatMap((m) => m.componentKinds));
}

interface Started {
  module: BlockModule;
  instance: BlockInstance;
}

/** The blocks of one sidecar, started in dependency order. */
export class BlockRunner {
  private readonly order: BlockModule[];
  private readonly started: Started[] = [];
  /** How many of `started` are not stopped yet (they stop from the end). */
  private running = 0;
  private stopped = false;

  constructor(
    modules: readonly BlockModule[],
    private readonly logger: Logger,
  ) {
    this.order = startOrder(modules);
  }

  /**
   * Starts every block in order. On a failure the blocks already started stay recorded, so
   * {@link stopAll} releases them; the error is rethrown.
   */
  async startAll(shared: Omit<BlockContext, 'use'>): Promise<void> {
    for (const module of this.order) {
      if (this.stopped) return;
      const ctx: BlockContext = { ...shared, use: (dep) => this.use(module, dep) };
      const instance = await module.start(ctx);
      this.started.push({ module, instance });
      this.running = this.started.length;
      // Stopped while this block was starting: release it too.
      if (this.stopped) await this.stopAll();
    }
  }

  /** The instance of a started block, if it is started. */
  get<I extends BlockInstance>(module: BlockModule<I>): I | undefined {
    return this.started.find((s) => s.module.name === module.name)?.instance as I | undefined;
  }

  /** Every block's routes, in start order. */
  httpRoutes(): HttpRoute[] {
    return this.started.flatMap((s) => [...(s.instance.httpRoutes?.() ?? [])]);
  }

  /**
   * The Dapr gRPC service's unary and streaming methods from every block; a method provided twice is
   * an error.
   */
  daprMethods(server: GrpcApiServer): { unary: DaprGrpcMethods; streaming: grpc.UntypedServiceImplementation } {
    const unary: DaprGrpcMethods = {};
    const streaming: grpc.UntypedServiceImplementation = {};
    const owner = new Map<string, string>();
    const claim = (name: string, block: string) => {
      const previous = owner.get(name);
      if (previous) throw new Error(`gRPC method ${name} is provided by both the "${previous}" and the "${block}" block`);
      owner.set(name, block);
    };
    for (const { module, instance } of this.started) {
      for (const [name, handler] of Object.entries(instance.grpcMethods?.() ?? {})) {
        claim(name, module.name);
        unary[name] = handler;
      }
      for (const [name, handler] of Object.entries(instance.grpcStreamingMethods?.(server) ?? {})) {
        claim(name, module.name);
        streaming[name] = handler;
      }
    }
    return { unary, streaming };
  }

  /** The blocks' HTTP intercepts as one: the first that handles a request wins. */
  httpIntercept(): FallbackHandler | undefined {
    const intercepts = this.started.flatMap((s) => (s.instance.httpIntercept ? [s.instance.httpIntercept] : []));
    if (intercepts.length <= 1) return intercepts[0];
    return async (req, res) => {
      for (const intercept of intercepts) if (await intercept(req, res)) return true;
      return false;
    };
  }

  /** The blocks' raw gRPC stream handlers as one: the first that takes a stream wins. */
  grpcRawStreams(): RawStreamHandler | undefined {
    const handlers = this.started.flatMap((s) => (s.instance.grpcRawStreams ? [s.instance.grpcRawStreams] : []));
    if (handlers.length <= 1) return handlers[0];
    return (stream, headers) => handlers.some((h) => h(stream, headers));
  }

  /** The started instances, in start order. */
  instances(): BlockInstance[] {
    return this.started.map((s) => s.instance);
  }

  /**
   * Stops the started blocks in reverse start order, so each stops before the blocks it uses. A
   * failing stop is logged and the others still run. Idempotent.
   */
  async stopAll(): Promise<void> {
    this.stopped = true;
    // Instances stay listed after stopping (the sidecar's accessors keep answering).
    while (this.running > 0) {
      this.running -= 1;
      const { module, instance } = this.started[this.running] as Started;
      try {
        await instance.stop?.();
      } catch (err) {
        this.logger.warn(`error stopping the ${module.name} block`, { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  private use<I extends BlockInstance>(user: BlockModule, dep: BlockModule<I>): I {
    if (!user.dependsOn.includes(dep.name)) throw new Error(`building block "${user.name}" uses "${dep.name}" without declaring it in dependsOn`);
    const instance = this.get(dep);
    if (!instance) throw new Error(`building block "${dep.name}" is not started`);
    return instance;
  }
}
