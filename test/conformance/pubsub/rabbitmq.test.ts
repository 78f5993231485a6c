/** `pubsub.rabbitmq` through the pub/sub conformance suite, on the real RabbitMQ. */
import amqp from 'amqplib';
import { SERVICES, requireService } from '../../support/services.js';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.rabbitmq',
  capabilities: { ordered: true, survivesCrash: true },
  enabled: () => requireService(SERVICES.rabbitmq, 'pub/sub conformance: pubsub.rabbitmq'),
  cleanup: async ({ topics, groups }) => {
    const conn = await amqp.connect(`amqp://${SERVICES.rabbitmq.host}:${SERVICES.rabbitmq.port}`);
    for (const topic of topics) {
      for (const group of groups) {
        const ch = await conn.createChannel();
        await ch.deleteQueue(`${group}-${topic}`).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
      const ch = await conn.createChannel();
      await ch.deleteExchange(topic).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    await conn.close();
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: pubsub.rabbitmq
  version: v1
  metadata:
  - {name: connectionString, value: "amqp://${SERVICES.rabbitmq.host}:${SERVICES.rabbitmq.port}"}
  - {name: durable, value: "true"}
  - {name: deletedWhenUnused, value: "false"}
`,
});
