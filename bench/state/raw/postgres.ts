/**
 * The raw baseline for `state.postgresql` (v1): pg running the driver's SQL
 * (`packages/runtime/src/components/state/postgresql/postgresql-store.ts`) for one save and one get,
 * on a pool of the driver's default size (10). A save computes `value_json` with the driver's own
 * function, since that value is a parameter of the same statement.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { jsonForQuery } from '../../../packages/runtime/src/components/state/postgresql/postgresql-store.js';
import type { StateClient } from '../clients.js';
import { valueJson } from '../clients.js';

const LIVE = '(expiredate IS NULL OR expiredate > now())';
const EXPIRY = 'CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6::double precision) END';

/** Creates `table` as the driver does (no metadata table: the raw loop never cleans up expiries). */
export async function rawPostgresClient(connectionString: string, table: string, valueBytes: number): Promise<StateClient> {
  const pool = new pg.Pool({ connectionString, max: 10, statement_timeout: 20_000 });
  await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
    key text NOT NULL PRIMARY KEY,
    value bytea NOT NULL,
    value_json jsonb,
    etag uuid NOT NULL,
    content_type text,
    insertdate timestamptz NOT NULL DEFAULT now(),
    updatedate timestamptz,
    expiredate timestamptz
  )`);
  await pool.query(`CREATE INDEX IF NOT EXISTS ${table}_expiredate_idx ON ${table} (expiredate) WHERE expiredate IS NOT NULL`);
  const select = `SELECT key, value, xmin::text AS etag, expiredate, content_type FROM ${table} WHERE key = $1 AND ${LIVE}`;
  const upsert = `INSERT INTO ${table} (key, value, value_json, etag, content_type, expiredate) VALUES ($1, $2, $3::jsonb, $4::uuid, $5, ${EXPIRY})
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, value_json = EXCLUDED.value_json, etag = EXCLUDED.etag,
           content_type = EXCLUDED.content_type, expiredate = EXCLUDED.expiredate, updatedate = now() `;
  const value = Buffer.from(valueJson(valueBytes));
  return {
    async save(key) {
      const result = await pool.query(upsert, [key, value, jsonForQuery(value), randomUUID(), null, null]);
      if (result.rowCount === 0) throw new Error(`save of ${key} changed no row`);
    },
    async get(key) {
      const { rows } = await pool.query<{ value: Buffer }>(select, [key]);
      const row = rows[0];
      if (!row) throw new Error(`key ${key} not found`);
      if (row.value.length !== valueBytes) throw new Error(`get returned ${row.value.length} bytes, expected ${valueBytes}`);
    },
    close: () => pool.end(),
  };
}

/** Drops the tables this run created. */
export async function cleanupPostgres(connectionString: string, tables: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${table}`);
  } finally {
    await client.end();
  }
}
