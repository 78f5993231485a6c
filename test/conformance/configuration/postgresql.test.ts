/** `configuration.postgresql` through the configuration conformance suite, on the real Postgres (a table of its own). */
import pg from 'pg';
import { POSTGRES_URL, SERVICES, requireService } from '../../support/services.js';
import { configurationConformance } from './suite.js';

const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const table = `weft_cfg_conf_${suffix}`;
const channel = `weft_cfg_${suffix}`;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

configurationConformance({
  type: 'configuration.postgresql',
  storesMetadata: true,
  subscribeMetadata: { pgNotifyChannel: channel },
  enabled: () => requireService(SERVICES.postgres, 'configuration conformance: configuration.postgresql'),
  cleanup: async () => {
    await sql(`DROP TABLE IF EXISTS ${table}`);
    await sql(`DROP FUNCTION IF EXISTS configuration_event_${channel}()`);
  },
  component: (name) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: configuration.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "${POSTGRES_URL}"}
  - {name: table, value: ${table}}
`,
  writer: async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    return {
      // Dapr's layout has no key constraint: replace the row.
      set: async (key, value, version, metadata) => {
        await client.query('BEGIN');
        const updated = await client.query(`UPDATE ${table} SET value = $2, version = $3, metadata = $4 WHERE key = $1`, [key, value, version, metadata ? JSON.stringify(metadata) : null]);
        if (updated.rowCount === 0) await client.query(`INSERT INTO ${table} (key, value, version, metadata) VALUES ($1, $2, $3, $4)`, [key, value, version, metadata ? JSON.stringify(metadata) : null]);
        await client.query('COMMIT');
      },
      delete: async (key) => void (await client.query(`DELETE FROM ${table} WHERE key = $1`, [key])),
      close: () => client.end(),
    };
  },
});
