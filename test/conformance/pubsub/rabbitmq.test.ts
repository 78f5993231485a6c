/** `pubsub.rabbitmq` through the pub/sub conformance suite, on the real RabbitMQ. */
import { SERVICES, requireService } from '../../support/services.js';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.rabbitmq',
  capabilities: { ordered: true, survivesCrash: true },
  enabled: () => requireService(SERVICES.rabbitmq, 'pub/sub conformance: pubsub.rabbitmq'),
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
