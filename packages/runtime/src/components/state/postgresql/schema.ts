/**
 * The tables of `state.postgresql` and their upkeep: creation under an advisory lock (several
 * sidecars may start at once against one database), and the periodic delete of expired rows, which
 * one sidecar at a time claims through the metadata table, as Dapr's store does.
 *
 * The state table keeps the value twice: `value` holds the exact bytes saved (so values round-trip
 * byte for byte, JSON or not) and `value_json` the parsed JSON the query API reads (NULL when the
 * value is not JSON). The layout is Weft's own; a table created by Dapr is detected and refused.
 */
import type { Pool } from 'pg';

const REQUIRED_COLUMNS = ['key', 'value', 'value_json', 'etag', 'content_type', 'expiredate'];

/** The table name without its schema, for naming indexes. */
function bareName(table: string): string {
  return table.slice(table.lastIndexOf('.') + 1);
}

/** Creates the state and metadata tables if missing, and checks an existing state table's columns. */
export async function ensureSchema(pool: Pool, table: string, metadataTable: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Concurrent CREATE TABLE IF NOT EXISTS of one table can still collide in the catalog.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`weft-state-schema:${table}`]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
      key text NOT NULL PRIMARY KEY,
      value bytea NOT NULL,
      value_json jsonb,
      etag uuid NOT NULL,
      content_type text,
      insertdate timestamptz NOT NULL DEFAULT now(),
      updatedate timestamptz,
      expiredate timestamptz
    )`);
    await client.query(`CREATE INDEX IF NOT EXISTS ${bareName(table)}_expiredate_idx ON ${table} (expiredate) WHERE expiredate IS NOT NULL`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`);
    const { rows } = await client.query<{ column_name: string }>(
      `SELECT a.attname AS column_name FROM pg_attribute a
       WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [table],
    );
    const present = new Set(rows.map((r) => r.column_name));
    const missing = REQUIRED_COLUMNS.filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw new Error(
        `table ${table} exists but lacks the columns ${missing.join(', ')} (it was not created by Weft, perhaps by Dapr); ` +
          'set tableName to a new table',
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Deletes expired rows if no other sidecar did within the interval; returns the number deleted.
 * With `force` the claim is skipped (tests, and shutdown-free manual runs).
 */
export async function cleanupExpired(
  pool: Pool,
  table: string,
  metadataTable: string,
  intervalMs: number,
  force = false,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Claim this round: the upsert returns a row only when the last cleanup is older than the interval.
    // A second of slack keeps timer jitter from skipping every other round.
    const claim = await client.query(
      `INSERT INTO ${metadataTable} (key, value) VALUES ($1, now()::text)
       ON CONFLICT (key) DO UPDATE SET value = now()::text
       WHERE $3::boolean OR ${metadataTable}.value::timestamptz < now() - make_interval(secs => $2::double precision)
       RETURNING key`,
      [`last-cleanup-${table}`, Math.max(0, intervalMs - 1000) / 1000, force],
    );
    let deleted = 0;
    if ((claim.rowCount ?? 0) > 0) {
      const result = await client.query(`DELETE FROM ${table} WHERE expiredate IS NOT NULL AND expiredate <= now()`);
      deleted = result.rowCount ?? 0;
    }
    await client.query('COMMIT');
    return deleted;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
