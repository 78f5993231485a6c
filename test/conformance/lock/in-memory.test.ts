/** `lock.in-memory`, the reference driver, through the lock conformance suite. */
import { lockConformance } from './suite.js';

lockConformance({
  type: 'lock.in-memory',
  sharedAcrossProcesses: 'lock.in-memory keeps its locks inside one process',
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: lock.in-memory
  version: v1
  metadata: []
`,
});
