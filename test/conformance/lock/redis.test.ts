/** `lock.redis` through the lock conformance suite, on the real Redis. */
import { REDIS_HOST, SERVICES, requireService } from '../../support/services.js';
import { lockConformance } from './suite.js';

lockConformance({
  type: 'lock.redis',
  sharedAcrossProcesses: true,
  enabled: () => requireService(SERVICES.redis, 'lock conformance: lock.redis'),
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: lock.redis
  version: v1
  metadata:
  - {name: redisHost, value: "${REDIS_HOST}"}
`,
});
