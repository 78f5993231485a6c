/** Resource YAML for tests, written the way users write Dapr components. */

/** A `Component` with plain `name`/`value` metadata (values JSON-quoted, so any string is safe). */
export function componentYaml(name: string, type: string, metadata: Record<string, string> = {}): string {
  const entries = Object.entries(metadata).map(([k, v]) => `  - {name: ${k}, value: ${JSON.stringify(v)}}`);
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: ${type}
  version: v1
  metadata:
${entries.join('\n') || '  []'}
`;
}

/** A `Configuration` that samples every trace and exports it to a Zipkin endpoint. */
export function zipkinTracingConfig(endpointAddress: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
spec:
  tracing:
    samplingRate: "1"
    zipkin: {endpointAddress: "${endpointAddress}"}
`;
}
