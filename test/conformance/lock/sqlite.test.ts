/** `lock.sqlite`, the embedded driver, through the lock conformance suite (processes share the file). */
import path from 'node:path';
import { lockConformance } from './suite.js';

lockConformance({
  type: 'lock.sqlite',
  sharedAcrossProcesses: true,
  component: (name, dir) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: lock.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "${path.join(dir, 'locks.sqlite')}"}
`,
});
