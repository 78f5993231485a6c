/**
 * `state.postgresql` (v1 and v2) on Dapr's own table layouts (see `schema.ts`), so a database daprd
 * wrote works under Weft and the other way round. Etag checks happen inside the statement that writes
 * (`UPDATE ... WHERE key = $1 AND <etag matches>`, and an upsert that only replaces an expired row for
 * first-write), so concurrent writers cannot both win; a transaction is one database transaction. TTL
 * is the expiry column reads filter on; a background timer deletes expired rows.
 *
 * v1 keeps JSON in `value jsonb` (so Postgres normalises it: key order and spacing change, as under
 * Dapr) and anything else as a JSON string of base64 with `isbinary`; its etag is the row's `xmin`,
 * and the query API runs over `value` ({@link buildQuerySql}). v2 keeps the exact bytes in
 * `value bytea` with a UUID etag, and, as Dapr's v2, has no query API.
 */
import pg from 'pg';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { assertNumericEtag, assertUuidEtag } from '../etag.js';
import { ETagInvalidError, ETagMismatchError } from '../store.js';
import type {
  BulkStateStore,
  KeyListingStateStore,
  ListKeysRequest,
  QueryableStateStore,
  StateDeleteRequest,
  StateFeature,
  StateGetRequest,
  StateItem,
  StateOperation,
  StateQuery,
  StateQueryResult,
  StateSetRequest,
  TransactionalStateStore,
} from '../store.js';
import { parsePostgresStateMetadata } from './metadata.js';
import type { PostgresStateMetadata } from './metadata.js';
import { buildQuerySql } from './query-sql.js';
import { cleanupExpired, ensureSchema } from './schema.js';
import { describePostgresTarget } from '../../../util/postgres-connection.js';
import { describeNetworkError } from '../../../util/network-error.js';
import type { StateSchema } from './schema.js';

const MAX_XID = 4_294_967_295;

/** Which Dapr version's layout and etag scheme a store instance speaks. */
export type PostgresStateVersion = 'v1' | 'v2';

interface ItemRow {
  key: string;
  value: Buffer | string;
  isbinary?: boolean;
  etag: string;
  expiry: Date | null;
}

/** Anything that runs a query: the pool, or one client inside a transaction. */
type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Lone surrogates and NUL, escaped: valid JSON that Postgres' jsonb rejects. */
const JSONB_UNSUPPORTED = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * The JSON text v1 stores in `value`, or null when the value is not JSON (or not UTF-8, or holds what
 * jsonb cannot). It is re-serialised from the parsed value, as daprd re-serialises what it decoded, so
 * queries see exactly what the in-memory reference sees after `JSON.parse`.
 */
export function jsonForQuery(value: Buffer): string | null {
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const json = JSON.stringify(parsed);
  return JSONB_UNSUPPORTED.test(json) ? null : json;
}

/** v1's encoding of a value: `[value as jsonb text, isbinary]`, exactly as daprd writes it. */
export function encodeV1Value(value: Buffer): [string, boolean] {
  const json = jsonForQuery(value);
  return json !== null ? [json, false] : [JSON.stringify(value.toString('base64')), true];
}

/** Decodes a row: v2's bytes as they are; v1's jsonb text, or its base64 string when `isbinary`. */
function toItem(row: ItemRow): StateItem {
  let value: Buffer;
  if (typeof row.value !== 'string') value = row.value;
  else if (row.isbinary) value = Buffer.from(JSON.parse(row.value) as string, 'base64');
  else value = Buffer.from(row.value, 'utf8');
  return { value, etag: row.etag, ...(row.expiry ? { expiresAt: row.expiry } : {}) };
}

/** The SQL that differs between the two layouts. */
interface VersionSql {
  features: readonly StateFeature[];
  /** Select list yielding {@link ItemRow}. */
  columns: string;
  live: string;
  expiry: string;
  etagMatches: (param: string) => string;
  /** The value parameters after the key (`$2`, and `$3` for v1's isbinary) and their SQL. */
  encode: (value: Buffer) => unknown[];
  insert: (t: string, expiry: string) => string;
  update: (t: string, expiry: string, etagParam: string) => string;
  onConflict: (expiry: string) => string;
}

const V1: VersionSql = {
  features: ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'],
  columns: 'key, value::text AS value, isbinary, xmin::text AS etag, expiredate AS expiry',
  live: '(expiredate IS NULL OR expiredate > now())',
  expiry: 'expiredate',
  etagMatches: (p) => `xmin = ${p}::xid`,
  encode: (value) => encodeV1Value(value),
  insert: (t, expiry) => `INSERT INTO ${t} AS cur (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, $3, ${expiry})`,
  onConflict: () => 'value = EXCLUDED.value, isbinary = EXCLUDED.isbinary, updatedate = now(), expiredate = EXCLUDED.expiredate',
  update: (t, expiry, etag) =>
    `UPDATE ${t} SET value = $2::jsonb, isbinary = $3, updatedate = now(), expiredate = ${expiry} WHERE key = $1 AND xmin = ${etag}::xid`,
};

const V2: VersionSql = {
  features: ['ETAG', 'TRANSACTIONAL', 'TTL'],
  columns: 'key, value, etag::text AS etag, expires_at AS expiry',
  live: '(expires_at IS NULL OR expires_at > now())',
  expiry: 'expires_at',
  etagMatches: (p) => `etag = ${p}::uuid`,
  encode: (value) => [value],
  insert: (t, expiry) => `INSERT INTO ${t} AS cur (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), ${expiry})`,
  onConflict: () => 'value = EXCLUDED.value, updated_at = now(), etag = gen_random_uuid(), expires_at = EXCLUDED.expires_at',
  update: (t, expiry, etag) =>
    `UPDATE ${t} SET value = $2, updated_at = now(), etag = gen_random_uuid(), expires_at = ${expiry} WHERE key = $1 AND etag = ${etag}::uuid`,
};

/** PostgreSQL state store with etags, TTL, transactions and the query API. */
export class PostgresStateStore implements TransactionalStateStore, BulkStateStore, QueryableStateStore, KeyListingStateStore {
  private pool: Pool | undefined;
  private meta!: PostgresStateMetadata;
  private schema!: StateSchema;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private readonly sql: VersionSql;

  constructor(readonly version: PostgresStateVersion) {
    this.sql = version === 'v1' ? V1 : V2;
  }

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parsePostgresStateMetadata(props, this.version);
    this.meta = meta;
    this.schema = { version: this.version, table: meta.tableName, metadataTable: meta.metadataTableName, tablePrefix: meta.tablePrefix };
    const pool = new pg.Pool({
      ...meta.connection,
      max: meta.maxConns,
      statement_timeout: meta.timeoutMs,
      connectionTimeoutMillis: meta.connection.connectionTimeoutMillis ?? meta.timeoutMs,
      application_name: meta.connection.application_name ?? `weft-${context.appId}`,
    });
    // An idle client losing its connection emits on the pool; unhandled, that would crash the process.
    pool.on('error', (err) => context.logger.warn(`postgres idle connection error: ${err.message}`));
    try {
      await ensureSchema(pool, this.schema);
    } catch (err) {
      await pool.end().catch(() => undefined);
      const code = (err as { code?: string }).code ?? '';
      // Network failures say where they tried to connect; SQL errors speak for themselves.
      const reason = /^E[A-Z]+$/.test(code) || /timeout/i.test((err as Error).message)
        ? `cannot reach Postgres at ${describePostgresTarget(meta.connection)}: ${describeNetworkError(err)}`
        : (err as Error).message;
      throw new Error(`postgres store: ${reason}`);
    }
    this.pool = pool;
    if (meta.cleanupIntervalMs > 0) {
      this.cleanupTimer = setInterval(() => {
        this.cleanupExpired().catch((err: unknown) => context.logger.warn(`expired-row cleanup failed: ${(err as Error).message}`));
      }, meta.cleanupIntervalMs);
      this.cleanupTimer.unref();
    }
  }

  features(): readonly StateFeature[] {
    return this.sql.features;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const { rows } = await this.db().query<ItemRow>(
      `SELECT ${this.sql.columns} FROM ${this.meta.tableName} WHERE key = $1 AND ${this.sql.live}`,
      [request.key],
    );
    return rows[0] ? toItem(rows[0]) : undefined;
  }

  async listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]> {
    // starts_with + key order over the primary key; COLLATE "C" so order matches byte order.
    const { rows } = await this.db().query<ItemRow>(
      `SELECT ${this.sql.columns} FROM ${this.meta.tableName}
       WHERE starts_with(key, $1) AND key COLLATE "C" > $2 AND ${this.sql.live} ORDER BY key COLLATE "C" LIMIT $3`,
      [request.prefix, request.after ?? '', request.limit],
    );
    return rows.map((row) => ({ key: row.key, item: toItem(row) }));
  }

  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    if (keys.length === 0) return found;
    const { rows } = await this.db().query<ItemRow>(
      `SELECT ${this.sql.columns} FROM ${this.meta.tableName} WHERE key = ANY($1::text[]) AND ${this.sql.live}`,
      [keys],
    );
    for (const row of rows) found.set(row.key, toItem(row));
    return found;
  }

  async set(request: StateSetRequest): Promise<void> {
    this.assertEtag(request.etag);
    await this.apply(this.db(), { type: 'upsert', request });
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    this.assertEtag(request.etag);
    await this.apply(this.db(), { type: 'delete', request });
  }

  async multi(operations: readonly StateOperation[]): Promise<void> {
    for (const op of operations) this.assertEtag(op.request.etag);
    if (operations.length === 0) return;
    const client = await this.db().connect();
    try {
      await client.query('BEGIN');
      for (const op of operations) await this.apply(client, op);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async query(query: StateQuery, keyPrefix: string): Promise<StateQueryResult> {
    if (this.version !== 'v1') throw new Error('state.postgresql v2 has no query API (as in Dapr); use v1');
    const sql = buildQuerySql(query, {
      table: this.meta.tableName,
      keyPrefix,
      columns: this.sql.columns,
      liveCondition: this.sql.live,
    });
    const { rows } = await this.db().query<ItemRow>(sql.text, sql.values);
    const more = sql.limit !== undefined && rows.length > sql.limit;
    const page = more ? rows.slice(0, sql.limit) : rows;
    return {
      results: page.map((r) => ({ key: r.key, value: toItem(r).value, etag: r.etag })),
      ...(more && sql.limit !== undefined ? { token: String(sql.offset + sql.limit) } : {}),
    };
  }

  /** Deletes expired rows now (reads already hide them; this reclaims space). Returns the count. */
  cleanupExpired(force = false): Promise<number> {
    return cleanupExpired(this.db(), this.schema, this.meta.cleanupIntervalMs, force);
  }

  async close(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** Runs one operation; an etag or first-write check that fails throws {@link ETagMismatchError}. */
  private async apply(db: Queryable, op: StateOperation): Promise<void> {
    const t = this.meta.tableName;
    const { key, etag } = op.request;
    const live = this.sql.live;
    let result: QueryResult;
    if (op.type === 'delete') {
      result = etag
        ? await db.query(`DELETE FROM ${t} WHERE key = $1 AND ${this.sql.etagMatches('$2')} AND ${live}`, [key, etag])
        : await db.query(`DELETE FROM ${t} WHERE key = $1`, [key]);
      if (etag && result.rowCount === 0) throw new ETagMismatchError(key);
      return;
    }
    const { request } = op;
    const ttl = request.ttlSeconds !== undefined && request.ttlSeconds >= 0 ? request.ttlSeconds : null;
    const values = [key, ...this.sql.encode(request.value)];
    const ttlParam = `$${values.length + 1}`;
    values.push(ttl);
    const expiry = `CASE WHEN ${ttlParam}::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => ${ttlParam}::double precision) END`;
    if (etag) {
      values.push(etag);
      result = await db.query(`${this.sql.update(t, expiry, `$${values.length}`)} AND ${live}`, values);
    } else {
      // First-write may only replace a row that has expired; last-write replaces any row.
      const column = `cur.${this.sql.expiry}`;
      const onlyExpired = request.options?.concurrency === 'first-write' ? ` WHERE ${column} IS NOT NULL AND ${column} <= now()` : '';
      result = await db.query(`${this.sql.insert(t, expiry)} ON CONFLICT (key) DO UPDATE SET ${this.sql.onConflict(expiry)}${onlyExpired}`, values);
    }
    if (result.rowCount === 0) throw new ETagMismatchError(key);
  }

  /** Rejects an etag not in this version's format before it reaches SQL. */
  private assertEtag(etag: string | undefined): void {
    if (this.version === 'v2') {
      assertUuidEtag(etag);
      return;
    }
    assertNumericEtag(etag);
    if (etag && Number(etag) > MAX_XID) throw new ETagInvalidError(etag);
  }

  private db(): Pool {
    if (!this.pool) throw new Error('postgres state store is not initialised or already closed');
    return this.pool;
  }
}
