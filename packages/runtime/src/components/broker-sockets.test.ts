/**
 * Every broker connection turns Nagle's algorithm off: a small publish or ack written while an earlier
 * segment is unacknowledged would otherwise wait for the broker's delayed ACK (~40 ms per message).
 * Runs each driver against its real broker and looks at the sockets that reached it.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REDIS_HOST, SERVICES, requireService } from '../../../../test/support/services.js';
import type { ServiceEndpoint } from '../../../../test/support/services.js';
import { silentLogger } from '../logging/logger.js';
import { builtinRegistry } from './builtin.js';
import type { ComponentContext } from './component.js';

const CONTEXT: ComponentContext = { name: 'nodelay', appId: 'nodelay', namespace: '', dataDir: '', logger: silentLogger(), env: {} };

const CASES: { type: string; service: ServiceEndpoint; props: Record<string, string> }[] = [
  { type: 'pubsub.rabbitmq', service: SERVICES.rabbitmq, props: { connectionString: 'amqp://guest:guest@127.0.0.1:5672' } },
  { type: 'pubsub.mqtt3', service: SERVICES.mqtt, props: { url: 'tcp://127.0.0.1:1883', consumerID: 'weft-nodelay' } },
  { type: 'bindings.mqtt3', service: SERVICES.mqtt, props: { url: 'tcp://127.0.0.1:1883', topic: 'weft-nodelay' } },
  { type: 'pubsub.jetstream', service: SERVICES.nats, props: { natsURL: 'nats://127.0.0.1:4222' } },
  { type: 'pubsub.redis', service: SERVICES.redis, props: { redisHost: REDIS_HOST } },
  { type: 'state.redis', service: SERVICES.redis, props: { redisHost: REDIS_HOST } },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('broker sockets', () => {
  for (const c of CASES) {
    it(`${c.type} connects with noDelay`, async (ctx) => {
      if (!(await requireService(c.service, `${c.type} noDelay`))) return ctx.skip();
      const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
      const component = await builtinRegistry().create(c.type, 'v1');
      try {
        await component.init(c.props, CONTEXT);
        const toBroker = setNoDelay.mock.calls.filter((args, i) => {
          const socket = setNoDelay.mock.contexts[i] as net.Socket;
          return socket.remotePort === c.service.port && args[0] !== false;
        });
        expect(toBroker.length).toBeGreaterThan(0);
      } finally {
        await component.close();
      }
    });
  }
});
