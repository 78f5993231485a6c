/** `pubsub.sqlite` (the embedded default) through the pub/sub conformance suite, several sidecars sharing one file. */
import path from 'node:path';
import { pubsubConformance } from './suite.js';

pubsubConformance({
  type: 'pubsub.sqlite',
  capabilities: { ordered: true, survivesCrash: true },
  component: (name, dir) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: pubsub.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "${path.join(dir, 'pubsub.sqlite')}"}
  - {name: pollInterval, value: 20ms}
  - {name: redeliverInterval, value: 100ms}
`,
});
