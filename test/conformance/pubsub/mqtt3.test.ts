/** `pubsub.mqtt3` through the pub/sub conformance suite, on the real Mosquitto broker. */
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
