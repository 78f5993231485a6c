/** `pubsub.redis` (Streams + consumer groups) through the pub/sub conformance suite, on the real Redis. */
import { Redis } from 'ioredis';
import { REDIS_HOST, SERVICES, requireService } from '../../support/services.js';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.redis',
  capabilities: { ordered: true, survivesCrash: true },
  enabled: () => requireService(SERVICES.redis, 'pub/sub conformance: pubsub.redis'),
  cleanup: async ({ topics }) => {
    const [host, port] = REDIS_HOST.split(':');
    const redis = new Redis({ host, port: Number(port) });
    if (topics.length > 0) await redis.del(...topics);
    redis.disconnect();
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: "${REDIS_HOST}"}
  - {name: processingTimeout, value: 1s}
  - {name: redeliverInterval, value: 200ms}
  - {name: maxLenApprox, value: "10000"}
`,
});
