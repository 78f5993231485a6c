/** `configuration.redis` through the configuration conformance suite, on the real Redis. */
import { Redis } from 'ioredis';
import { REDIS_HOST, SERVICES, requireService } from '../../support/services.js';
import { configurationConformance } from './suite.js';

configurationConformance({
  type: 'configuration.redis',
  storesMetadata: false,
  enabled: () => requireService(SERVICES.redis, 'configuration conformance: configuration.redis'),
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: configuration.redis
  version: v1
  metadata:
  - {name: redisHost, value: "${REDIS_HOST}"}
`,
  writer: async () => {
    const [host, port] = REDIS_HOST.split(':');
    const redis = new Redis({ host, port: Number(port) });
    const written = new Set<string>();
    return {
      // Dapr's layout: `value||version`.
      set: async (key, value, version) => {
        written.add(key);
        await redis.set(key, `${value}||${version}`);
      },
      delete: async (key) => void (await redis.del(key)),
      close: async () => {
        if (written.size > 0) await redis.del(...written);
        redis.disconnect();
      },
    };
  },
});
