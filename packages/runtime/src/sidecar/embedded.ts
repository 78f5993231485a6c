/**
 * The embedded defaults used when no resources path is given: every building block on SQLite files in
 * the data directory (`./.weft/`), so an app runs with nothing installed and keeps its data across
 * restarts. Later blocks (pub/sub, workflows, jobs) add their files here.
 */
import path from 'node:path';
import type { ComponentResource } from '../resources/component-schema.js';
import type { LoadedDocument } from '../resources/loader.js';

/** Where the embedded components come from, for logs and the banner. */
export const EMBEDDED_SOURCE = 'embedded default';

/** The embedded component declarations for a data directory. */
export function embeddedComponents(dataDir: string): LoadedDocument<ComponentResource>[] {
  const state: ComponentResource = {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'statestore' },
    spec: {
      type: 'state.sqlite',
      version: 'v1',
      metadata: [
        { name: 'connectionString', value: path.join(dataDir, 'state.sqlite') },
        { name: 'actorStateStore', value: 'true' },
      ],
    },
  };
  const pubsub: ComponentResource = {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'pubsub' },
    spec: { type: 'pubsub.sqlite', version: 'v1', metadata: [{ name: 'connectionString', value: path.join(dataDir, 'pubsub.sqlite') }] },
  };
  return [
    { file: EMBEDDED_SOURCE, index: 0, doc: state },
    { file: EMBEDDED_SOURCE, index: 1, doc: pubsub },
  ];
}
