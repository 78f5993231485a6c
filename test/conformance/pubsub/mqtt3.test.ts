/** `pubsub.mqtt3` through the pub/sub conformance suite, on the real Mosquitto broker. */
import { createHash } from 'node:crypto';
import mqtt from 'mqtt';
import { SERVICES, requireService } from '../../support/services.js';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.mqtt3',
  capabilities: {
    ordered: true,
    survivesCrash: true,
    wildcards: true,
    consumerGroups: 'MQTT 3 has no consumer groups: instances of one app id need distinct consumerIDs and each gets every message',
  },
  enabled: () => requireService(SERVICES.mqtt, 'pub/sub conformance: pubsub.mqtt3'),
  cleanup: async ({ topics, groups }) => {
    // Persistent sessions live on the broker until a clean connection with the same client id.
    for (const group of groups) {
      for (const topic of topics) {
        const clientId = `${group}-${createHash('sha1').update(topic).digest('hex').slice(0, 10)}`;
        const client = await mqtt.connectAsync(`mqtt://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`, { clientId, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
        await client.endAsync();
      }
    }
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: pubsub.mqtt3
  version: v1
  metadata:
  - {name: url, value: "tcp://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}"}
  - {name: qos, value: "1"}
  - {name: redeliverInterval, value: 100ms}
`,
});
