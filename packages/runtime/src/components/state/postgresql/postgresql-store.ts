/**
 * `state.postgresql` (v1 and v2): one row per key in a table it creates. Etag checks happen inside
 * the statement that writes (`UPDATE ... WHERE key = $1 AND <etag matches>`, and an upsert that only
 * replaces an expired row for first-write), so concurrent writers cannot both win; a transaction is
 * one database transaction. TTL is an `expiredate` column that reads filter on; a background timer
 * deletes expired rows. The query API is translated to SQL over the JSON value ({@link buildQuerySql}).
 *
 * Etags follow Dapr: v1 reports the row's `xmin` (a transaction id, numeric), v2 a UUID minted per
 * write. Both versions share one table layout, so a table can move from v1 to v2.
 */
import { randomUUID } from 'node:crypto';
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

const FEATURES: readonly StateFeature[] = ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'];
const LIVE = '(expiredate IS NULL OR expiredate > now())';
const MAX_XID = 4_294_967_295;

/** Which Dapr version's etag scheme a store instance speaks. */
export type PostgresStateVersion = 'v1' | 'v2';

interface ItemRow {
  key: string;
  value: Buffer;
  etag: string;
  expiredate: Date | null;
  content_type: string | null;
}

/** Anything that runs a query: the pool, or one client inside a transaction. */
type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Lone surrogates and NUL, escaped: valid JSON that Postgres' jsonb rejects. */
const JSONB_UNSUPPORTED = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * The JSON text for `value_json`, or null when the value is not JSON. It is re-serialised from the
 * parsed value, so queries see exactly what the in-memory reference sees after `JSON.parse`.
 */
export function jsonForQuery(value: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  const text = JSON.stringify(parsed);
  return JSONB_UNSUPPORTED.test(text) ? null : text;
}

function toItem(row: ItemRow): StateItem {
  return {
    value: row.value,
    etag: row.etag,
    ...(row.expiredate ? { expiresAt: row.expiredate } : {}),
    ...(row.content_type ? { contentType: row.content_type } : {}),
  };
}

/** PostgreSQL state store with etags, TTL, transactions and the query API. */
export class PostgresStateStore implements TransactionalStateStore, BulkStateStore, QueryableStateStore, KeyListingStateStore {
  private pool: Pool | undefined;
  private meta!: PostgresStateMetadata;
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** SQL for the etag a row reports, and for a bind parameter matching it. */
  private readonly etagSql: { column: string; matches: (param: string) => string };

  constructor(readonly version: PostgresStateVersion) {
    this.etagSql =
      version === 'v1'
        ? { column: 'xmin::text', matches: (p) => `xmin = ${p}::xid` }
        : { column: 'etag::text', matches: (p) => `etag = ${p}::uuid` };
  }

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const meta = parsePostgresStateMetadata(props);
    this.meta = meta;
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
      await ensureSchema(pool, meta.tableName, meta.metadataTableName);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`postgres store: ${(err as Error).message}`);
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
    return FEATURES;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    const { rows } = await this.db().query<ItemRow>(
      `SELECT key, value, ${this.etagSql.column} AS etag, expiredate, content_type FROM ${this.meta.tableName} WHERE key = $1 AND ${LIVE}`,
      [request.key],
    );
    return rows[0] ? toItem(rows[0]) : undefined;
  }

  async listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]> {
    // starts_with + key order over the primary key; COLLATE "C" so order matches byte order.
    const { rows } = await this.db().query<ItemRow>(
      `SELECT key, value, ${this.etagSql.column} AS etag, expiredate, content_type FROM ${this.meta.tableName}
       WHERE starts_with(key, $1) AND key COLLATE "C" > $2 AND ${LIVE} ORDER BY key COLLATE "C" LIMIT $3`,
      [request.prefix, request.after ?? '', request.limit],
    );
    return rows.map((row) => ({ key: row.key, item: toItem(row) }));
  }

  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    if (keys.length === 0) return found;
    const { rows } = await this.db().query<ItemRow>(
      `SELECT key, value, ${this.etagSql.column} AS etag, expiredate, content_type FROM ${this.meta.tableName} WHERE key = ANY($1::text[]) AND ${LIVE}`,
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
    const sql = buildQuerySql(query, {
      table: this.meta.tableName,
      keyPrefix,
      etagColumn: this.etagSql.column,
      liveCondition: LIVE,
    });
    const { rows } = await this.db().query<{ key: string; value: Buffer; etag: string }>(sql.text, sql.values);
    const more = sql.limit !== undefined && rows.length > sql.limit;
    const page = more ? rows.slice(0, sql.limit) : rows;
    return {
      results: page.map((r) => ({ key: r.key, value: r.value, etag: r.etag })),
      ...(more && sql.limit !== undefined ? { token: String(sql.offset + sql.limit) } : {}),
    };
  }

  /** Deletes expired rows now (reads already hide them; this reclaims space). Returns the count. */
  cleanupExpired(force = false): Promise<number> {
    return cleanupExpired(this.db(), this.meta.tableName, this.meta.metadataTableName, this.meta.cleanupIntervalMs, force);
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
    let result: QueryResult;
    if (op.type === 'delete') {
      result = etag
        ? await db.query(`DELETE FROM ${t} WHERE key = $1 AND ${this.etagSql.matches('$2')} AND ${LIVE}`, [key, etag])
        : await db.query(`DELETE FROM ${t} WHERE key = $1`, [key]);
      if (etag && result.rowCount === 0) throw new ETagMismatchError(key);
      return;
    }
    const { request } = op;
    const ttl = request.ttlSeconds !== undefined && request.ttlSeconds >= 0 ? request.ttlSeconds : null;
    const values = [key, request.value, jsonForQuery(request.value), randomUUID(), request.contentType ?? null, ttl];
    const expiry = `CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6::double precision) END`;
    if (etag) {
      result = await db.query(
        `UPDATE ${t} SET value = $2, value_json = $3::jsonb, etag = $4::uuid, content_type = $5, expiredate = ${expiry}, updatedate = now()
         WHERE key = $1 AND ${this.etagSql.matches('$7')} AND ${LIVE}`,
        [...values, etag],
      );
    } else {
      // First-write may only replace a row that has expired; last-write replaces any row.
      const onlyExpired = request.options?.concurrency === 'first-write' ? `WHERE ${t}.expiredate IS NOT NULL AND ${t}.expiredate <= now()` : '';
      result = await db.query(
        `INSERT INTO ${t} (key, value, value_json, etag, content_type, expiredate) VALUES ($1, $2, $3::jsonb, $4::uuid, $5, ${expiry})
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, value_json = EXCLUDED.value_json, etag = EXCLUDED.etag,
           content_type = EXCLUDED.content_type, expiredate = EXCLUDED.expiredate, updatedate = now() ${onlyExpired}`,
        values,
      );
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
