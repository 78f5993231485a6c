/**
 * `lock.postgresql`: locks as rows of one table in a shared Postgres, for sidecars on several
 * machines. Taking a lock is one `INSERT … ON CONFLICT DO UPDATE … WHERE expired` (Postgres locks the
 * conflicting row, so two takers serialise and exactly one wins); releasing is one `DELETE` guarded
 * by owner and expiry. Expiry uses the database clock, so sidecars' clocks need not agree.
 *
 * Dapr has no Postgres lock store; this one is Weft's. Metadata: `connectionString`, `tableName`
 * (default `dapr_lock`, `name` or `schema.name`), `timeout` (default 20s).
 */
import type { Pool } from 'pg';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readString } from '../../metadata.js';
import { QUALIFIED_IDENTIFIER, openPostgresPool, readPostgresSettings, withDdlLock } from '../../postgres-pool.js';
import type { LockStore, TryLockRequest, UnlockStatusValue } from '../store.js';
import { UnlockStatus } from '../store.js';

/** Postgres lock store. */
export class PostgresLockStore implements LockStore {
  private pool: Pool | undefined;
  private table = 'dapr_lock';

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const settings = readPostgresSettings(props);
    const table = readString(props, 'tableName', 'dapr_lock');
    if (!QUALIFIED_IDENTIFIER.test(table)) throw new MetadataError('tableName', `must be a SQL identifier (optionally "schema.table"), got "${table}"`);
    this.table = table;
    this.pool = await openPostgresPool(settings, context, 'lock.postgresql', (pool) =>
      withDdlLock(pool, `weft-lock-${table}`, async (client) => {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`);
      }),
    );
  }

  async tryLock(request: TryLockRequest): Promise<boolean> {
    const t = this.table;
    const result = await this.db().query(
      `INSERT INTO ${t} AS t (key, owner, expires_at) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at WHERE t.expires_at <= clock_timestamp()
       RETURNING 1`,
      [request.key, request.owner, request.expiryInSeconds],
    );
    return result.rowCount === 1;
  }

  async unlock(key: string, owner: string): Promise<UnlockStatusValue> {
    const t = this.table;
    const deleted = await this.db().query(`DELETE FROM ${t} WHERE key = $1 AND owner = $2 AND expires_at > clock_timestamp()`, [key, owner]);
    if (deleted.rowCount === 1) return UnlockStatus.SUCCESS;
    const held = await this.db().query<{ owner: string; live: boolean }>(`SELECT owner, expires_at > clock_timestamp() AS live FROM ${t} WHERE key = $1`, [key]);
    const row = held.rows[0];
    // Not there, expired, or taken by this owner only after the delete missed it: nothing was released.
    if (!row || !row.live || row.owner === owner) return UnlockStatus.LOCK_DOES_NOT_EXIST;
    return UnlockStatus.LOCK_BELONGS_TO_OTHERS;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private db(): Pool {
    if (!this.pool) throw new Error('lock.postgresql is not initialised');
    return this.pool;
  }
}
