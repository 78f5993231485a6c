/**
 * Jobs on PostgreSQL: with a `state.postgresql` actor state store the job store is the `weft_jobs`
 * table, and two sidecars of one app id share the triggers (each fires, none twice).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { POSTGRES_URL, SERVICES, requireService } from '../support/services.js';
import { eventually } from '../support/subscriber-app.js';

const up = await requireService(SERVICES.postgres, 'jobs on PostgreSQL');

/** Its own state tables: the shared test database may hold a "state" table of another layout. */
const TABLE = `weft_jobs_state_${randomUUID().slice(0, 8)}`;

const ACTOR_STORE = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: actorstore}
spec:
  type: state.postgresql
  version: v1
  metadata:
  - {name: connectionString, value: "${POSTGRES_URL}"}
  - {name: actorStateStore, value: "true"}
  - {name: tableName, value: ${TABLE}}
  - {name: metadataTableName, value: ${TABLE}_meta}
`;

const sidecars: TestSidecar[] = [];
const apps: RecordingApp[] = [];
afterEach(async () => {
  for (const s of sidecars.splice(0)) await s.stop();
  for (const a of apps.splice(0)) await a.close();
});

describe.runIf(up)('jobs on PostgreSQL', () => {
  it('stores jobs in weft_jobs and two replicas of one app fire a recurring job exactly `repeats` times in all', async () => {
    const appId = `jobs-pg-${randomUUID().slice(0, 8)}`;
    const raw = new pg.Client({ connectionString: POSTGRES_URL });
    await raw.connect();
    try {
      for (let i = 0; i < 2; i++) {
        const app = await startRecordingApp({ '/job/shared': { status: 200 } });
        apps.push(app);
        sidecars.push(await startTestSidecar({ appId, resources: [ACTOR_STORE], appPort: app.port }));
      }
      const [first] = sidecars;
      const res = await fetch(`${first!.baseUrl}/v1.0-alpha1/jobs/shared`, { method: 'POST', body: JSON.stringify({ schedule: '@every 1s', repeats: 3, data: 'x' }) });
      expect(res.status).toBe(204);
      const stored = await raw.query('SELECT name FROM weft_jobs WHERE app_id = $1', [appId]);
      expect(stored.rows).toEqual([{ name: 'shared' }]);
      // The second replica reads the job the first one stored.
      expect((await fetch(`${sidecars[1]!.baseUrl}/v1.0-alpha1/jobs/shared`)).status).toBe(200);
      await eventually(async () => (await raw.query('SELECT 1 FROM weft_jobs WHERE app_id = $1', [appId])).rowCount === 0, 20_000, 'job finished');
      const triggers = apps.flatMap((a) => a.received('POST', '/job/shared'));
      expect(triggers).toHaveLength(3);
    } finally {
      await raw.query('DELETE FROM weft_jobs WHERE app_id = $1', [appId]);
      for (const s of sidecars.splice(0)) await s.stop();
      await raw.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_meta`);
      await raw.end();
    }
  });
});
