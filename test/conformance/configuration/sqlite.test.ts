/** `configuration.sqlite`, the embedded driver, through the configuration conformance suite. */
import path from 'node:path';
import Database from 'better-sqlite3';
import { configurationConformance } from './suite.js';

configurationConformance({
  type: 'configuration.sqlite',
  storesMetadata: true,
  component: (name, dir) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: configuration.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "${path.join(dir, 'config.sqlite')}"}
  - {name: pollInterval, value: 50ms}
`,
  // Another connection, as another process writing the file would be.
  writer: async (dir) => {
    const db = new Database(path.join(dir, 'config.sqlite'), { timeout: 2000 });
    const upsert = db.prepare(
      'INSERT INTO configuration (key, value, version, metadata) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = excluded.version, metadata = excluded.metadata',
    );
    const remove = db.prepare('DELETE FROM configuration WHERE key = ?');
    return {
      set: async (key, value, version, metadata) => void upsert.run(key, value, version, metadata ? JSON.stringify(metadata) : null),
      delete: async (key) => void remove.run(key),
      close: async () => void db.close(),
    };
  },
});
