/** `pubsub.in-memory` through the pub/sub conformance suite. */
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.in-memory',
  capabilities: { ordered: true, survivesCrash: 'pubsub.in-memory keeps nothing once its process is killed' },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec: {type: pubsub.in-memory, version: v1}
`,
});
