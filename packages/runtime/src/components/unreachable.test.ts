/**
 * Every network driver fails its first connection at once, naming what it tried to reach and why,
 * and leaves nothing running: no retry loop keeps the process alive after a failed init.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { builtinRegistry } from './builtin.js';
import type { ComponentContext } from './component.js';

const CONTEXT: ComponentContext = { name: 'c', appId: 'unreach', namespace: '', dataDir: '', logger: silentLogger(), env: {} };
const HOST = 'weft-nohost.invalid';

const CASES: { type: string; props: Record<string, string>; message: RegExp }[] = [
  { type: 'pubsub.redis', props: { redisHost: `${HOST}:6379` }, message: new RegExp(`cannot reach Redis at ${HOST}:6379: host not found`) },
  { type: 'state.redis', props: { redisHost: `${HOST}:6379` }, message: new RegExp(`cannot reach Redis at ${HOST}:6379: host not found`) },
  { type: 'bindings.redis', props: { redisHost: `${HOST}:6379` }, message: new RegExp(`cannot reach Redis at ${HOST}:6379: host not found`) },
  { type: 'pubsub.jetstream', props: { natsURL: `nats://${HOST}:4222` }, message: new RegExp(`cannot reach NATS at nats://${HOST}:4222: `) },
  { type: 'pubsub.rabbitmq', props: { connectionString: `amqp://guest:secret@${HOST}:5672` }, message: new RegExp(`cannot reach RabbitMQ at amqp://guest:\\*\\*\\*@${HOST}:5672: host not found`) },
  { type: 'pubsub.mqtt3', props: { url: `tcp://${HOST}:1883` }, message: new RegExp(`cannot reach MQTT broker at mqtt://${HOST}:1883: host not found`) },
  { type: 'bindings.mqtt3', props: { url: `tcp://${HOST}:1883`, topic: 't' }, message: new RegExp(`cannot reach MQTT broker at mqtt://${HOST}:1883: host not found`) },
  {
    type: 'state.postgresql',
    props: { connectionString: `host=${HOST} port=5432 user=postgres dbname=test`, timeout: '5s' },
    message: new RegExp(`cannot reach Postgres at ${HOST}:5432/test: host not found`),
  },
];

describe('unreachable backends', () => {
  for (const c of CASES) {
    it(`${c.type} says what it could not reach`, async () => {
      const component = await builtinRegistry().create(c.type, 'v1');
      await expect(component.init(c.props, CONTEXT)).rejects.toThrow(c.message);
      await component.close();
    }, 30_000);
  }
});
