/** `configuration.postgresql` through the configuration conformance suite, on the real Postgres (a table of its own). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, it } from 'vitest';
import type { ConfigurationItem, ConfigurationStore } from '../../../packages/runtime/src/components/configuration/store.js';
import { initComponent } from '../driver-context.js';
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

describe('configuration.postgresql listener', () => {
  it('listens again after its connection is killed: a change made around the outage and one made after it both arrive', async (ctx) => {
    if (!(await requireService(SERVICES.postgres, 'configuration.postgresql reconnect'))) return ctx.skip();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-cfgpg-'));
    const name = 'reconnect';
    const own = `${table}_rc`;
    const ownChannel = `${channel}_rc`;
    const store = await initComponent<ConfigurationStore>(
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec:\n  type: configuration.postgresql\n  version: v1\n  metadata:\n  - {name: connectionString, value: "${POSTGRES_URL}"}\n  - {name: table, value: ${own}}\n`,
      dir,
    );
    const seen: Record<string, ConfigurationItem>[] = [];
    const watch = await store.watch({ keys: ['rk'], metadata: { pgNotifyChannel: ownChannel } }, (items) => seen.push(items));
    try {
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'weft-configuration-listener-${ownChannel}'`);
      // Written around the outage: either the re-read after reconnecting or a notification delivers it.
      await sql(`INSERT INTO ${own} (key, value, version) VALUES ('rk', 'while-down', '1')`);
      await until(() => seen.some((s) => s['rk']?.value === 'while-down'), 'the re-read after reconnecting');
      await sql(`UPDATE ${own} SET value = 'after', version = '2' WHERE key = 'rk'`);
      await until(() => seen.some((s) => s['rk']?.value === 'after'), 'a notification on the new connection');
    } finally {
      await watch.close();
      await store.close();
      await sql(`DROP TABLE IF EXISTS ${own}`);
      await sql(`DROP FUNCTION IF EXISTS configuration_event_${ownChannel}()`);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
