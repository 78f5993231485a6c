import { describe, expect, it } from 'vitest';
import type { GrpcApiServer } from '../api/grpc/server.js';
import type { BlockContext, BlockInstance, BlockModule } from '../blocks/block-module.js';
import { BUILDING_BLOCKS } from '../blocks/registry.js';
import { builtinRegistry } from '../components/builtin.js';
import { kindOf } from '../components/registry.js';
import { silentLogger } from '../logging/logger.js';
import type { Logger } from '../logging/logger.js';
import { BlockRunner, servedKinds, startOrder } from './block-runner.js';

/** A module that records its start and stop in `events`. */
function recording(name: string, events: string[], dependsOn: string[] = [], instance: Partial<BlockInstance> = {}): BlockModule {
  return {
    name,
    dependsOn,
    componentKinds: [],
    start: () => {
      events.push(`start ${name}`);
      return { ...instance, stop: () => void events.push(`stop ${name}`) };
    },
  };
}

const shared = {} as Omit<BlockContext, 'use'>;
/** The methods under test never touch the server. */
const server = {} as GrpcApiServer;

function warningsLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger(), warnings, warn: (message: string) => void warnings.push(message) } as Logger & { warnings: string[] };
}

describe('startOrder', () => {
  it('keeps the registered order when no dependency demands otherwise', () => {
    const events: string[] = [];
    const order = startOrder([recording('a', events), recording('b', events), recording('c', events)]);
    expect(order.map((m) => m.name)).toEqual(['a', 'b', 'c']);
  });

  it('moves a block after the blocks it depends on, and no further', () => {
    const events: string[] = [];
    const order = startOrder([recording('a', events, ['c']), recording('b', events), recording('c', events), recording('d', events)]);
    expect(order.map((m) => m.name)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('refuses a cycle, an unknown dependency and a name registered twice', () => {
    const events: string[] = [];
    expect(() => startOrder([recording('a', events, ['b']), recording('b', events, ['a'])])).toThrow(/cycle: a, b/);
    expect(() => startOrder([recording('a', events, ['nope'])])).toThrow(/depends on "nope", which is not registered/);
    expect(() => startOrder([recording('a', events), recording('a', events)])).toThrow(/registered twice/);
  });

  it('orders the registered building blocks without error, each after its dependencies', () => {
    const order = startOrder(BUILDING_BLOCKS).map((m) => m.name);
    for (const module of BUILDING_BLOCKS) {
      for (const dep of module.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(module.name));
    }
  });
});

describe('BlockRunner', () => {
  it('stops blocks in the reverse of their start order', async () => {
    const events: string[] = [];
    const runner = new BlockRunner([recording('a', events, ['c']), recording('b', events), recording('c', events)], silentLogger());
    await runner.startAll(shared);
    await runner.stopAll();
    expect(events).toEqual(['start b', 'start c', 'start a', 'stop a', 'stop c', 'stop b']);
  });

  it('stops only the blocks that started when a start fails, and stops each once', async () => {
    const events: string[] = [];
    const failing: BlockModule = { name: 'bad', dependsOn: [], componentKinds: [], start: () => Promise.reject(new Error('no backend')) };
    const runner = new BlockRunner([recording('a', events), failing, recording('c', events)], silentLogger());
    await expect(runner.startAll(shared)).rejects.toThrow('no backend');
    await runner.stopAll();
    await runner.stopAll();
    expect(events).toEqual(['start a', 'stop a']);
  });

  it('keeps stopping the other blocks when one fails to stop, and logs it', async () => {
    const events: string[] = [];
    const broken: BlockModule = { name: 'broken', dependsOn: [], componentKinds: [], start: () => ({ stop: () => Promise.reject(new Error('stuck')) }) };
    const logger = warningsLogger();
    const runner = new BlockRunner([recording('a', events), broken], logger);
    await runner.startAll(shared);
    await runner.stopAll();
    expect(events).toEqual(['start a', 'stop a']);
    expect(logger.warnings).toEqual(['error stopping the broken block']);
  });

  it('gives a block the instances of the blocks it depends on, and refuses undeclared ones', async () => {
    const events: string[] = [];
    const base: BlockModule<BlockInstance & { value: number }> = { name: 'base', dependsOn: [], componentKinds: [], start: () => ({ value: 42 }) };
    const seen: number[] = [];
    const user: BlockModule = { name: 'user', dependsOn: ['base'], componentKinds: [], start: (ctx) => (seen.push(ctx.use(base).value), {}) };
    const sneaky: BlockModule = { name: 'sneaky', dependsOn: [], componentKinds: [], start: (ctx) => (ctx.use(base), {}) };
    await new BlockRunner([user, base, recording('x', events)], silentLogger()).startAll(shared);
    expect(seen).toEqual([42]);
    await expect(new BlockRunner([base, sneaky], silentLogger()).startAll(shared)).rejects.toThrow(/"sneaky" uses "base" without declaring it in dependsOn/);
  });

  it('merges the blocks\' gRPC methods and refuses a method provided twice', async () => {
    const events: string[] = [];
    const handler = () => Promise.resolve({});
    const runner = new BlockRunner(
      [recording('a', events, [], { grpcMethods: () => ({ GetState: handler }) }), recording('b', events, [], { grpcMethods: () => ({ PublishEvent: handler }) })],
      silentLogger(),
    );
    await runner.startAll(shared);
    expect(Object.keys(runner.daprMethods(server).unary).sort()).toEqual(['GetState', 'PublishEvent']);
    const clash = new BlockRunner(
      [recording('a', events, [], { grpcMethods: () => ({ GetState: handler }) }), recording('b', events, [], { grpcMethods: () => ({ GetState: handler }) })],
      silentLogger(),
    );
    await clash.startAll(shared);
    expect(() => clash.daprMethods(server)).toThrow('gRPC method GetState is provided by both the "a" and the "b" block');
  });

  it('refuses a streaming method that another block provides as unary', async () => {
    const events: string[] = [];
    const runner = new BlockRunner(
      [
        recording('a', events, [], { grpcMethods: () => ({ SubscribeConfiguration: () => Promise.resolve({}) }) }),
        recording('b', events, [], { grpcStreamingMethods: () => ({ SubscribeConfiguration: () => {} }) }),
      ],
      silentLogger(),
    );
    await runner.startAll(shared);
    expect(() => runner.daprMethods(server)).toThrow('gRPC method SubscribeConfiguration is provided by both the "a" and the "b" block');
  });

  it('lists routes in start order', async () => {
    const events: string[] = [];
    const route = (name: string) => ({ methods: ['GET'] as const, path: `/${name}`, group: name, name, handler: () => ({ status: 204 }) });
    const runner = new BlockRunner(
      [recording('a', events, ['b'], { httpRoutes: () => [route('a')] }), recording('b', events, [], { httpRoutes: () => [route('b')] })],
      silentLogger(),
    );
    await runner.startAll(shared);
    expect(runner.httpRoutes().map((r) => r.name)).toEqual(['b', 'a']);
  });
});

describe('servedKinds', () => {
  it('covers every component kind that has a built-in driver', () => {
    const served = servedKinds(BUILDING_BLOCKS);
    const withDrivers = new Set(builtinRegistry().supportedTypes().map((t) => kindOf(t)));
    for (const kind of withDrivers) expect(served.has(kind ?? '')).toBe(true);
  });
});
