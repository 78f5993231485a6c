/** `lock.postgresql` through the lock conformance suite, on the real Postgres (a table of its own). */
import pg from 'pg';
import { POSTGRES_URL, SERVICES, requireService } from '../../support/services.js';
import { lockConformance } from './suite.js';

const table = `weft_lock_conf_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

lockConformance({
  type: 'lock.postgresql',
  sharedAcrossProcesses: true,
  enabled: () => requireService(SERVICES.postgres, 'lock conformance: lock.postgresql'),
  cleanup: async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: lock.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "${POSTGRES_URL}"}
  - {name: tableName, value: ${table}}
`,
});
