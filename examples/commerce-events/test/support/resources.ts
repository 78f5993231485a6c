/** Resource YAML for the tests: the example's components with test-sized timings. */
import { REDIS_HOST } from '../../../../test/support/services.js';

/** The seed's `pubsub-redis`, with short redelivery so a killed worker's events come back quickly. */
export const redisPubsub = (): string => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub-redis}
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - {name: redisHost, value: "${REDIS_HOST}"}
    - {name: maxRetries, value: "3"}
    - {name: redeliverInterval, value: "1s"}
    - {name: processingTimeout, value: "4s"}
`;

/** The embedded pub/sub (the default run), one file shared by every process of the test. */
export const embeddedPubsub = (file: string): string => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.sqlite
  version: v1
  metadata:
    - {name: connectionString, value: "${file}"}
`;

/** Three delivery retries (the seed's maxRetries 3), 300 ms apart. */
export const resiliency = (): string => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: commerce-events}
spec:
  policies:
    timeouts: {handler: 30s}
    retries:
      eventRetry: {policy: constant, duration: 300ms, maxRetries: 3}
  targets:
    components:
      pubsub-redis: {inbound: {timeout: handler, retry: eventRetry}}
      pubsub: {inbound: {timeout: handler, retry: eventRetry}}
`;

/** The example's cron bindings, firing every second. */
export const cronBindings = (): string =>
  [
    ['order-cod-auto-confirm', 'order-worker'],
    ['order-unpaid-cleanup', 'order-worker'],
    ['warehouse-reservation-expiry', 'warehouse-worker'],
    ['warehouse-stock-change-detector', 'warehouse-worker'],
    ['warehouse-daily-summary', 'warehouse-worker'],
  ]
    .map(
      ([name, scope]) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: bindings.cron
  version: v1
  metadata:
    - {name: schedule, value: "@every 1s"}
    - {name: direction, value: input}
scopes: [${scope}]
`,
    )
    .join('---\n');
