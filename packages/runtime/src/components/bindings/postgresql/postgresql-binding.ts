/**
 * `bindings.postgresql`: an output binding running SQL (`connectionString` as for `state.postgresql`).
 * `exec` runs metadata `sql` with optional `params` (a JSON array) and reports `rows-affected`;
 * `query` returns the rows as a JSON array of arrays, as components-contrib does; `close` closes the
 * pool. Operation metadata carries `operation`, `start-time`, `end-time` and `duration`.
 */
import pg from 'pg';
import type { Component, ComponentContext } from '../../component.js';
import { requireString } from '../../metadata.js';
import type { MetadataProperties } from '../../metadata.js';
import { parsePostgresConnection as parseConnectionString } from '../../../util/postgres-connection.js';
import type { InvokeRequest, InvokeResponse, OutputBinding } from '../binding.js';

const OPERATIONS = ['exec', 'query', 'close'] as const;

function paramsOf(request: InvokeRequest): unknown[] {
  const raw = request.metadata['params'];
  if (raw === undefined || raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`metadata "params" is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error('metadata "params" must be a JSON array');
  return parsed;
}

/** The PostgreSQL output binding. */
export class PostgresBinding implements OutputBinding, Component {
  private pool: pg.Pool | undefined;

  async init(props: MetadataProperties, _context: ComponentContext): Promise<void> {
    const config = parseConnectionString(requireString(props, 'connectionString'));
    const pool = new pg.Pool({ ...config, max: 5 });
    pool.on('error', () => {}); // An idle client dropping is reported by the next query.
    const client = await pool.connect();
    client.release();
    this.pool = pool;
  }

  operations(): readonly string[] {
    return OPERATIONS;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse | undefined> {
    if (request.operation === 'close') {
      await this.close();
      return undefined;
    }
    const pool = this.pool;
    if (!pool) throw new Error('postgresql binding is closed');
    const sql = request.metadata['sql'];
    if (sql === undefined || sql === '') throw new Error('required metadata not set: sql');
    const start = new Date();
    const result = await pool.query({ text: sql, values: paramsOf(request), rowMode: 'array' });
    const end = new Date();
    const metadata: Record<string, string> = {
      operation: request.operation,
      sql,
      'start-time': start.toISOString(),
      'end-time': end.toISOString(),
      duration: `${end.getTime() - start.getTime()}ms`,
    };
    if (request.operation === 'exec') {
      metadata['rows-affected'] = String(result.rowCount ?? 0);
      return { data: Buffer.alloc(0), metadata };
    }
    return { data: Buffer.from(JSON.stringify(result.rows)), metadata };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}
