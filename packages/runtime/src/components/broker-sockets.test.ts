/**
 * Every broker connection turns Nagle's algorithm off: a small publish or ack written while an earlier
 * segment is unacknowledged would otherwise wait for the broker's delayed ACK (~40 ms per message).
 * Runs each driver against its real broker, publishing and subscribing, and checks every socket that
 * reached the broker.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REDIS_HOST, SERVICES, requireService } from '../../../../test/support/services.js';
import type { ServiceEndpoint } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import type { InputBinding } from './bindings/binding.js';
import { builtinRegistry } from './builtin.js';
import type { Component, ComponentContext } from './component.js';
import type { PubSub } from './pubsub/store.js';

const CONTEXT: ComponentContext = { name: 'nodelay', appId: 'nodelay', namespace: '', dataDir: '', logger: silentLogger(), env: {} };

const subscribe = async (c: Component) => {
  await (c as PubSub).subscribe({ topic: 'weft-nodelay', group: 'weft-nodelay', concurrency: 1, metadata: {} }, async () => 'ack');
};
const read = async (c: Component) => (c as InputBinding).read(async () => undefined);

const CASES: { type: string; service: ServiceEndpoint; props: Record<string, string>; use?: (c: Component) => Promise<void> }[] = [
  { type: 'pubsub.rabbitmq', service: SERVICES.rabbitmq, props: { connectionString: 'amqp://guest:guest@127.0.0.1:5672' }, use: subscribe },
  { type: 'pubsub.mqtt3', service: SERVICES.mqtt, props: { url: 'tcp://127.0.0.1:1883', consumerID: 'weft-nodelay' }, use: subscribe },
  { type: 'bindings.mqtt3', service: SERVICES.mqtt, props: { url: 'tcp://127.0.0.1:1883', topic: 'weft-nodelay' }, use: read },
  { type: 'pubsub.jetstream', service: SERVICES.nats, props: { natsURL: 'nats://127.0.0.1:4222' } },
  { type: 'pubsub.redis', service: SERVICES.redis, props: { redisHost: REDIS_HOST } },
  { type: 'state.redis', service: SERVICES.redis, props: { redisHost: REDIS_HOST } },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('broker sockets', () => {
  for (const c of CASES) {
    it(`${c.type} connects every socket with noDelay`, async (ctx) => {
      if (!(await requireService(c.service, `${c.type} noDelay`))) return ctx.skip();
      const connect = vi.spyOn(net.Socket.prototype, 'connect');
      const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
      const component = await builtinRegistry().create(c.type, 'v1');
      try {
        await component.init(c.props, CONTEXT);
        await c.use?.(component);
        // mqtt.js turns it off once the CONNACK arrives, which init and subscribe await.
        const sockets = new Set((connect.mock.contexts as net.Socket[]).filter((s) => s.remotePort === c.service.port));
        const noDelay = new Set((setNoDelay.mock.contexts as net.Socket[]).filter((_, i) => setNoDelay.mock.calls[i]?.[0] !== false));
        expect(sockets.size).toBeGreaterThan(0);
        for (const socket of sockets) expect(noDelay.has(socket)).toBe(true);
      } finally {
        await component.close();
      }
    });
  }
});
