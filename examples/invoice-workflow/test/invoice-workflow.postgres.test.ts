/**
 * The production backend: `weft.postgres.yaml` with the example's `state.postgresql` component
 * (`actorStateStore: "true"`), which moves Weft's workflow engine to Postgres. Runs on the machine's
 * real Postgres with a unique table and workflow app id, so parallel runs never share work.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { POSTGRES_URL, SERVICES, requireService } from '../../../test/support/services.js';
import type { InvoiceTruth, InvoiceWorkflowResult } from '../src/shared/models.js';
import { EXAMPLE_DIR, startInvoiceStack } from './stack.js';
import type { InvoiceStack } from './stack.js';

const available = await requireService(SERVICES.postgres, 'invoice workflow on Postgres');
const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const TABLE = `invoice_state_${suffix}`;
const APP_ID = `workflow-app-${suffix.replace(/_/g, '-')}`;

describe.runIf(available)('invoice workflow on the production component (Postgres as the actor state store)', () => {
  let stack: InvoiceStack;
  let resources: string;

  beforeAll(async () => {
    // The example's component, with a table and scope of this run's own.
    resources = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-invoice-pg-'));
    const component = parseYaml(await fs.readFile(path.join(EXAMPLE_DIR, 'components/postgres/statestore.postgresql.yaml'), 'utf8')) as {
      spec: { metadata: { name: string; value?: string; envRef?: string }[] };
      scopes: string[];
    };
    const table = component.spec.metadata.find((m) => m.name === 'tableName');
    if (!table) throw new Error('the production component has no tableName');
    table.value = TABLE;
    component.scopes = [APP_ID];
    await fs.writeFile(path.join(resources, 'statestore.postgresql.yaml'), toYaml(component));
    stack = await startInvoiceStack({
      runFile: 'weft.postgres.yaml',
      resourcesPath: resources,
      workflowAppId: APP_ID,
      env: { DATABASE_URL: POSTGRES_URL },
    });
  }, 120_000);

  afterAll(async () => {
    if (stack) await stack.weft('--connection-string', POSTGRES_URL, 'purge', '--all').catch(() => undefined);
    await stack?.stop();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    } finally {
      await client.end();
    }
    if (resources) await fs.rm(resources, { recursive: true, force: true });
  }, 60_000);

  it('runs the 3-page invoice with its workflow history in Postgres', async () => {
    const truth = stack.truths.get('sample-invoice.pdf') as InvoiceTruth;
    expect((await stack.start('INV-PG-1', 'sample-invoice.pdf')).status).toBe(202);
    await stack.waitFor('INV-PG-1', 'awaiting approval', (v) => (v.custom_status ?? '').startsWith('awaiting approval'));
    expect((await stack.raise('INV-PG-1', 'approval', { approved: true, approver: 'ann' })).status).toBe(202);
    const done = await stack.waitFor('INV-PG-1', 'completion', (v) => v.runtime_status !== 'RUNNING' && v.runtime_status !== 'PENDING');
    expect(done.runtime_status).toBe('COMPLETED');
    const output = done.output as InvoiceWorkflowResult;
    expect(output.decision).toBe('approved');
    expect(output.invoice.total).toBe(truth.total);
    expect(output.invoice.line_items).toEqual(truth.line_items);
    expect(output.invoice.pages).toEqual([1, 2, 3]);

    // The instance is in Postgres, under this run's app id: `weft workflow` reads it from there.
    const got = JSON.parse(await stack.weft('--connection-string', POSTGRES_URL, 'get', 'INV-PG-1')) as { runtimeStatus: string };
    expect(got.runtimeStatus).toBe('COMPLETED');
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const rows = await client.query<{ status: string }>('SELECT status FROM weft_wf_instances WHERE app_id = $1 AND instance_id = $2', [APP_ID, 'INV-PG-1']);
      expect(rows.rows.map((r) => r.status)).toEqual(['COMPLETED']);
    } finally {
      await client.end();
    }
  }, 240_000);
});
