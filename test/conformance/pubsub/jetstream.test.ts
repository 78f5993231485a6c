/** `pubsub.jetstream` through the pub/sub conformance suite, on the real NATS server. */
import { connect } from 'nats';
import { SERVICES, requireService } from '../../support/services.js';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.jetstream',
  capabilities: {
    ordered: true,
    survivesCrash: true,
    largeMessage: { bytes: 1_000_000, reason: "the NATS server's max_payload is 1 MiB, which a 1 MiB payload plus its CloudEvent envelope exceeds" },
  },
  enabled: () => requireService(SERVICES.nats, 'pub/sub conformance: pubsub.jetstream'),
  cleanup: async ({ topics }) => {
    const nc = await connect({ servers: `nats://${SERVICES.nats.host}:${SERVICES.nats.port}` });
    const jsm = await nc.jetstreamManager();
    for await (const info of jsm.streams.list()) {
      if (info.config.subjects?.some((s) => topics.includes(s))) await jsm.streams.delete(info.config.name);
    }
    await nc.close();
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: pubsub.jetstream
  version: v1
  metadata:
  - {name: natsURL, value: "nats://${SERVICES.nats.host}:${SERVICES.nats.port}"}
  - {name: ackWait, value: 2s}
`,
});
