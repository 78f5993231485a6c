/**
 * Durable job storage. The embedded default is SQLite in `<dataDir>/jobs.sqlite` (WAL), keyed by app
 * id and job name, so a job outlives the sidecar and one that fell due while it was down is found
 * due when it comes back.
 */
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../util/open-sqlite.js';
import type { JobRecord, JobSpec } from './job.js';

/** Where jobs live. */
export interface JobStore {
  /** Inserts; with `overwrite` false, resolves false when the name is taken. */
  insert(appId: string, record: JobRecord, overwrite: boolean): Promise<boolean>;
  get(appId: string, name: string): Promise<JobRecord | undefined>;
  /** Replaces the scheduling state of an existing job (no-op if it was deleted meanwhile). */
  update(appId: string, record: JobRecord): Promise<void>;
  delete(appId: string, name: string): Promise<void>;
  /** Every job whose name starts with `prefix`, ordered by name (code point order). */
  list(appId: string, prefix: string): Promise<JobRecord[]>;
  /** Deletes this version of a job (not one that replaced it meanwhile). */
  remove(appId: string, record: JobRecord): Promise<void>;
  /**
   * Claims jobs due at `now`, soonest first: their `nextRunAt` moves to `now + leaseMs` in the same
   * step, so another sidecar of the app does not fire them too, and a sidecar that dies mid-trigger
   * leaves them to fire again once the lease ends. Returns the records as they were before the claim.
   */
  claimDue(appId: string, now: number, leaseMs: number, limit: number): Promise<JobRecord[]>;
  /** The earliest `nextRunAt`, if any job exists. */
  earliest(appId: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** A stored row (shared with the Postgres store). */
export interface Row {
  spec: string;
  created_at: number;
  next_run_at: number;
  count: number;
  attempt: number;
}

/** Decodes a row. */
export function toRecord(row: Row): JobRecord {
  const raw = JSON.parse(row.spec) as JobSpec & { data?: { typeUrl: string; value: string } };
  const spec: JobSpec = { ...raw, ...(raw.data ? { data: { typeUrl: raw.data.typeUrl, value: Buffer.from(raw.data.value, 'base64') } } : {}) };
  return { spec, createdAt: row.created_at, nextRunAt: row.next_run_at, count: row.count, attempt: row.attempt };
}

/** Encodes a spec for storage (data as base64). */
export function specJson(spec: JobSpec): string {
  return JSON.stringify({ ...spec, ...(spec.data ? { data: { typeUrl: spec.data.typeUrl, value: spec.data.value.toString('base64') } } : {}) });
}

/** The SQLite job store. */
export class SqliteJobStore implements JobStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = openSqlite(path.join(dataDir, 'jobs.sqlite'), 5000);
    this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (
      app_id TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, created_at INTEGER NOT NULL,
      next_run_at INTEGER NOT NULL, count INTEGER NOT NULL, attempt INTEGER NOT NULL,
      PRIMARY KEY (app_id, name))`);
    this.db.exec('CREATE INDEX IF NOT EXISTS jobs_due ON jobs (app_id, next_run_at)');
  }

  insert(appId: string, r: JobRecord, overwrite: boolean): Promise<boolean> {
    const sql = overwrite
      ? 'INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)'
      : 'INSERT OR IGNORE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)';
    const result = this.db.prepare(sql).run(appId, r.spec.name, specJson(r.spec), r.createdAt, r.nextRunAt, r.count, r.attempt);
    return Promise.resolve(result.changes > 0);
  }

  get(appId: string, name: string): Promise<JobRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE app_id = ? AND name = ?').get(appId, name) as Row | undefined;
    return Promise.resolve(row ? toRecord(row) : undefined);
  }

  update(appId: string, r: JobRecord): Promise<void> {
    this.db
      .prepare('UPDATE jobs SET next_run_at = ?, count = ?, attempt = ? WHERE app_id = ? AND name = ? AND created_at = ?')
      .run(r.nextRunAt, r.count, r.attempt, appId, r.spec.name, r.createdAt);
    return Promise.resolve();
  }

  delete(appId: string, name: string): Promise<void> {
    this.db.prepare('DELETE FROM jobs WHERE app_id = ? AND name = ?').run(appId, name);
    return Promise.resolve();
  }

  list(appId: string, prefix: string): Promise<JobRecord[]> {
    const rows = this.db
      // length() counts characters as substr() does (a JS length counts UTF-16 units).
      .prepare('SELECT * FROM jobs WHERE app_id = @appId AND substr(name, 1, length(@prefix)) = @prefix ORDER BY name')
      .all({ appId, prefix }) as Row[];
    return Promise.resolve(rows.map(toRecord));
  }

  remove(appId: string, r: JobRecord): Promise<void> {
    this.db.prepare('DELETE FROM jobs WHERE app_id = ? AND name = ? AND created_at = ?').run(appId, r.spec.name, r.createdAt);
    return Promise.resolve();
  }

  claimDue(appId: string, now: number, leaseMs: number, limit: number): Promise<JobRecord[]> {
    const claim = this.db.transaction(() => {
      const rows = this.db.prepare('SELECT * FROM jobs WHERE app_id = ? AND next_run_at <= ? ORDER BY next_run_at LIMIT ?').all(appId, now, limit) as Row[];
      const lease = this.db.prepare('UPDATE jobs SET next_run_at = ? WHERE app_id = ? AND name = ? AND created_at = ?');
      for (const row of rows) lease.run(now + leaseMs, appId, JSON.parse(row.spec).name as string, row.created_at);
      return rows;
    });
    return Promise.resolve(claim.immediate().map(toRecord));
  }

  earliest(appId: string): Promise<number | undefined> {
    const row = this.db.prepare('SELECT min(next_run_at) AS at FROM jobs WHERE app_id = ?').get(appId) as { at: number | null };
    return Promise.resolve(row.at ?? undefined);
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
