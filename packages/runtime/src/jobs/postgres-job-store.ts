/**
 * Jobs in PostgreSQL (table `weft_jobs`), used when the actor state store is a `state.postgresql`
 * component, as for workflows. Claims use `FOR UPDATE SKIP LOCKED`, so replicas of one app share
 * the triggers instead of each firing every job.
 */
import type pg from 'pg';
import { loadPg } from '../util/load-pg.js';
import { parsePostgresConnection } from '../util/postgres-connection.js';
import type { JobRecord } from './job.js';
import type { JobStore, Row } from './job-store.js';
import { specJson, toRecord } from './job-store.js';

interface PgRow {
  spec: string;
  created_at: string;
  next_run_at: string;
  count: number;
  attempt: number;
}

// BIGINT columns come back as strings from pg.
const fromPg = (row: PgRow): JobRecord =>
  toRecord({ ...row, created_at: Number(row.created_at), next_run_at: Number(row.next_run_at) } satisfies Row);

/** The Postgres job store. */
export class PostgresJobStore implements JobStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and creates the table if needed. */
  static async open(connectionString: string): Promise<PostgresJobStore> {
    // Either form Dapr accepts (URL or key=value), read by the one parser every Postgres user shares.
    const pg = await loadPg();
    const pool = new pg.Pool({ ...parsePostgresConnection(connectionString), max: 4 });
    pool.on('error', () => {}); // A dropped idle client is reported by the next query.
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS weft_jobs (
        app_id TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, created_at BIGINT NOT NULL,
        next_run_at BIGINT NOT NULL, count INTEGER NOT NULL, attempt INTEGER NOT NULL,
        PRIMARY KEY (app_id, name))`);
      await pool.query('CREATE INDEX IF NOT EXISTS weft_jobs_due ON weft_jobs (app_id, next_run_at)');
    } catch (err) {
      // Two sidecars creating the table at once: the loser's error is harmless if the table now exists.
      if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07') {
        await pool.end();
        throw err;
      }
    }
    return new PostgresJobStore(pool);
  }

  async insert(appId: string, r: JobRecord, overwrite: boolean): Promise<boolean> {
    const conflict = overwrite
      ? 'ON CONFLICT (app_id, name) DO UPDATE SET spec = EXCLUDED.spec, created_at = EXCLUDED.created_at, next_run_at = EXCLUDED.next_run_at, count = EXCLUDED.count, attempt = EXCLUDED.attempt'
      : 'ON CONFLICT (app_id, name) DO NOTHING';
    const res = await this.pool.query(`INSERT INTO weft_jobs VALUES ($1, $2, $3, $4, $5, $6, $7) ${conflict}`, [
      appId,
      r.spec.name,
      specJson(r.spec),
      r.createdAt,
      r.nextRunAt,
      r.count,
      r.attempt,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  async get(appId: string, name: string): Promise<JobRecord | undefined> {
    const res = await this.pool.query<PgRow>('SELECT * FROM weft_jobs WHERE app_id = $1 AND name = $2', [appId, name]);
    const row = res.rows[0];
    return row ? fromPg(row) : undefined;
  }

  async update(appId: string, r: JobRecord): Promise<void> {
    await this.pool.query('UPDATE weft_jobs SET next_run_at = $1, count = $2, attempt = $3 WHERE app_id = $4 AND name = $5 AND created_at = $6', [
      r.nextRunAt,
      r.count,
      r.attempt,
      appId,
      r.spec.name,
      r.createdAt,
    ]);
  }

  async delete(appId: string, name: string): Promise<void> {
    await this.pool.query('DELETE FROM weft_jobs WHERE app_id = $1 AND name = $2', [appId, name]);
  }

  async list(appId: string, prefix: string): Promise<JobRecord[]> {
    const res = await this.pool.query<PgRow>('SELECT * FROM weft_jobs WHERE app_id = $1 AND starts_with(name, $2) ORDER BY name COLLATE "C"', [appId, prefix]);
    return res.rows.map(fromPg);
  }

  async remove(appId: string, r: JobRecord): Promise<void> {
    await this.pool.query('DELETE FROM weft_jobs WHERE app_id = $1 AND name = $2 AND created_at = $3', [appId, r.spec.name, r.createdAt]);
  }

  async claimDue(appId: string, now: number, leaseMs: number, limit: number): Promise<JobRecord[]> {
    // The CTE sees the rows before the UPDATE, so the claim returns them as they were.
    const res = await this.pool.query<PgRow>(
      `WITH due AS (
         SELECT * FROM weft_jobs WHERE app_id = $1 AND next_run_at <= $2 ORDER BY next_run_at LIMIT $3 FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE weft_jobs j SET next_run_at = $4 FROM due WHERE j.app_id = due.app_id AND j.name = due.name RETURNING j.name
       )
       SELECT due.* FROM due JOIN claimed ON claimed.name = due.name ORDER BY due.next_run_at`,
      [appId, now, limit, now + leaseMs],
    );
    return res.rows.map(fromPg);
  }

  async earliest(appId: string): Promise<number | undefined> {
    const res = await this.pool.query<{ at: string | null }>('SELECT min(next_run_at) AS at FROM weft_jobs WHERE app_id = $1', [appId]);
    const at = res.rows[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
