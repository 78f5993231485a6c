/**
 * The PostgreSQL workflow backend, for several sidecars of one app sharing the work. Instances and
 * activity tasks are claimed with `FOR UPDATE SKIP LOCKED` plus a lease (owner + expiry) that the
 * holder renews; a replica that dies stops renewing and its work goes to the next one that asks.
 * Every step is committed durably (Postgres defaults) in one round trip (`postgres-functions.ts`); the
 * steps, starts and activity results that arrive together share one statement and one commit (group
 * commit, `write-batcher.ts`). A transaction that makes work available to other replicas sends a
 * NOTIFY with its commit, so their engines look at once instead of at their next poll (see {@link PostgresWorkflowBackend.watchNewWork}).
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { loadPg } from '../util/load-pg.js';
import type {
  ActivityCompletion,
  ActivityWorkItem,
  ForkedInstance,
  InstanceFilter,
  InstancePage,
  KnownHistory,
  NewInstance,
  OrchestrationLockRequest,
  OrchestrationStep,
  OrchestrationWorkItem,
  OutgoingMessage,
  PendingWorkInstance,
  RecentInstance,
  TerminateResult,
  WorkflowBackend,
} from './backend.js';
import { WORKFLOW_FUNCTIONS } from './postgres-functions.js';
import { WriteBatcher } from './write-batcher.js';
import { INSTANCE_COLUMNS, decodeToken, encodeToken, factsQuery, filterClause, idleInstances, parseEvent, toFacts, toInstance } from './sql-rows.js';
import type { FactsRow, InstanceRow, PendingWorkRow } from './sql-rows.js';
import type { InstanceFacts, Transition } from './transitions.js';
import { planSuspend, planTerminate, purgeBatch, purgeStatuses, purgeable } from './transitions.js';
import { madeWorkForOthers } from './new-work.js';
import type { HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';
import { WORKFLOW_STATUSES, isTerminal } from './types.js';
import { isUnfiltered } from './sql-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS weft_wf_instances (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  execution_id TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT, failure TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, scheduled_start_at BIGINT,
  parent_instance_id TEXT, parent_task_id INTEGER, lock_owner TEXT, lock_expires_at BIGINT,
  PRIMARY KEY (app_id, instance_id)
);
CREATE INDEX IF NOT EXISTS weft_wf_instances_parent ON weft_wf_instances (app_id, parent_instance_id);
CREATE TABLE IF NOT EXISTS weft_wf_history (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
  PRIMARY KEY (app_id, instance_id, seq)
);
CREATE TABLE IF NOT EXISTS weft_wf_inbox (
  seq BIGSERIAL PRIMARY KEY, app_id TEXT NOT NULL, instance_id TEXT NOT NULL, event TEXT NOT NULL, visible_at BIGINT NOT NULL,
  timer BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS weft_wf_inbox_instance ON weft_wf_inbox (app_id, instance_id, visible_at);
CREATE INDEX IF NOT EXISTS weft_wf_inbox_visible ON weft_wf_inbox (app_id, visible_at);
CREATE TABLE IF NOT EXISTS weft_wf_activities (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, task_id INTEGER NOT NULL, execution_id TEXT NOT NULL,
  name TEXT NOT NULL, input TEXT, attempt INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,
  lock_owner TEXT, lock_expires_at BIGINT,
  PRIMARY KEY (app_id, instance_id, task_id)
);
CREATE INDEX IF NOT EXISTS weft_wf_activities_created ON weft_wf_activities (app_id, created_at);
-- Unfinished instances by status (stuck scan, retention) and the wake-up times: none of these
-- queries may scan finished instances (issue 10: flat as history grows).
-- name and created_at ride along so the health overview (changes since a time) reads this index only.
-- It supersedes weft_wf_instances_status (app_id, status, updated_at), and weft_wf_instances_page
-- supersedes weft_wf_instances_created: a store from before keeps those two until they are dropped
-- by hand (not here, so replicas of an older version opening the same database never fight over them).
CREATE INDEX IF NOT EXISTS weft_wf_instances_status_recent ON weft_wf_instances (app_id, status, updated_at, name, created_at);
CREATE INDEX IF NOT EXISTS weft_wf_instances_lock ON weft_wf_instances (app_id, lock_expires_at) WHERE lock_expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS weft_wf_instances_scheduled ON weft_wf_instances (app_id, scheduled_start_at) WHERE scheduled_start_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS weft_wf_activities_lock ON weft_wf_activities (app_id, lock_expires_at) WHERE lock_expires_at IS NOT NULL;
-- The list's order (newest first, id as tie-break) and its keyset, per status and per name too, so a
-- filtered page and the counts per status are index(-only) scans (100,000 instances stay fast).
CREATE INDEX IF NOT EXISTS weft_wf_instances_page ON weft_wf_instances (app_id, created_at, instance_id);
CREATE INDEX IF NOT EXISTS weft_wf_instances_status_page ON weft_wf_instances (app_id, status, created_at, instance_id);
CREATE INDEX IF NOT EXISTS weft_wf_instances_name_page ON weft_wf_instances (app_id, name, status, created_at, instance_id);
-- Replaced by the paging and status indexes above (an older store still has them).
DROP INDEX IF EXISTS weft_wf_instances_created;
DROP INDEX IF EXISTS weft_wf_instances_status;
`;

/**
 * Instances per status for the dashboard's unfiltered counts, without counting rows: a trigger
 * appends a +1/-1 delta per insert, delete and status change (appends only, so concurrent steps never
 * wait on a shared counter row), and {@link PostgresWorkflowBackend.foldCounts} moves them into the
 * totals in one statement. Totals plus the deltas not yet folded are exact at any moment. Installed
 * once with a backfill, under a lock that holds writers off, so an existing store starts exact.
 */
const COUNTERS = [
  `CREATE TABLE IF NOT EXISTS weft_wf_status_counts (app_id TEXT NOT NULL, status TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (app_id, status))`,
  `CREATE TABLE IF NOT EXISTS weft_wf_status_deltas (app_id TEXT NOT NULL, status TEXT NOT NULL, d INTEGER NOT NULL)`,
  `CREATE OR REPLACE FUNCTION weft_wf_status_delta() RETURNS trigger LANGUAGE plpgsql AS $fn$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       INSERT INTO weft_wf_status_deltas (app_id, status, d) VALUES (NEW.app_id, NEW.status, 1);
     ELSIF TG_OP = 'DELETE' THEN
       INSERT INTO weft_wf_status_deltas (app_id, status, d) VALUES (OLD.app_id, OLD.status, -1);
     ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
       INSERT INTO weft_wf_status_deltas (app_id, status, d) VALUES (OLD.app_id, OLD.status, -1), (NEW.app_id, NEW.status, 1);
     END IF;
     RETURN NULL;
   END $fn$`,
  `CREATE TRIGGER weft_wf_status_count AFTER INSERT OR DELETE OR UPDATE OF status ON weft_wf_instances
   FOR EACH ROW EXECUTE FUNCTION weft_wf_status_delta()`,
  // Left over if the instance table (and with it the trigger) was dropped and made again.
  `DELETE FROM weft_wf_status_counts`,
  `DELETE FROM weft_wf_status_deltas`,
  `INSERT INTO weft_wf_status_counts (app_id, status, n) SELECT app_id, status, COUNT(*) FROM weft_wf_instances GROUP BY app_id, status`,
];

/**
 * Queue rows (inbox messages, activity tasks) this backend removes before it vacuums the queue
 * tables, and the least time between two of its vacuums. A claim walks the inbox in seq order, and
 * the rows removed since the last vacuum stay in the index at its low end: left to autovacuum (at
 * most once a minute), a busy store made every claim walk tens of thousands of dead entries (about
 * two thirds of the database's buffer reads per workflow).
 */
const VACUUM_AFTER_ROWS = 2_000;
const VACUUM_INTERVAL_MS = 1_000;

/** How often a backend folds its app's count deltas into the totals. */
const FOLD_INTERVAL_MS = 10_000;

const TERMINAL_SQL = `('COMPLETED', 'FAILED', 'TERMINATED')`;
const p = (n: number) => `$${n}`;

/** PostgreSQL implementation of {@link WorkflowBackend}. */
export class PostgresWorkflowBackend implements WorkflowBackend {
  /** The NOTIFY channel of this app id's work (an identifier: at most 63 bytes, so a digest). */
  private readonly channel: string;
  /** Identifies this backend object's notifications, so its own listener ignores them. */
  private readonly notifier = randomUUID();
  /** `NOTIFY …; COMMIT` in one round trip: both are literals (a hex digest and a UUID). */
  private readonly notifyAndCommit: string;
  private listener: NewWorkListener | undefined;
  private readonly foldTimer: NodeJS.Timeout;
  /** Queue rows removed since the last vacuum (see {@link VACUUM_AFTER_ROWS}). */
  private removedRows = 0;
  private lastVacuum = 0;
  private vacuuming = false;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly appId: string,
    private readonly connectionString: string,
  ) {
    this.channel = `weft_wf_${createHash('sha256').update(appId).digest('hex').slice(0, 32)}`;
    this.notifyAndCommit = `NOTIFY ${this.channel}, '${this.notifier}'; COMMIT`;
    // Keeps the delta table small whether or not anyone reads the counts.
    this.foldTimer = setInterval(() => void this.foldCounts().catch(() => undefined), FOLD_INTERVAL_MS);
    this.foldTimer.unref();
  }

  /** Connects and creates the tables if needed (serialised with an advisory lock across replicas). */
  static async open(connectionString: string, appId: string): Promise<PostgresWorkflowBackend> {
    // Sessions default to asynchronous commit: that only covers lease claims, renewals and releases,
    // whose loss in a database crash merely makes the work available again. Everything that records
    // progress runs in `tx()`, which switches durable commit back on for its transaction.
    const pg = await loadPg();
    const pool = new pg.Pool({ connectionString, max: 8, options: '-c synchronous_commit=off' });
    pool.on('error', () => {
      // idle client errors surface on the next query
    });
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(774411)');
      try {
        // One statement per implicit transaction: a multi-statement string is one transaction, and
        // holding several table locks while running replicas write those tables can deadlock.
        for (const statement of SCHEMA.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
          await client.query(statement);
        }
        const installed = await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'weft_wf_status_count'`);
        if (installed.rowCount === 0) {
          // One transaction, writers held off: no instance is both backfilled and counted by a trigger.
          await client.query('BEGIN');
          try {
            await client.query('LOCK TABLE weft_wf_instances IN SHARE ROW EXCLUSIVE MODE');
            for (const statement of COUNTERS) await client.query(statement);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
        // By app: a burst of instances leaves many dead delta rows until autovacuum, and a count must
        // not read them all (with the index, a scan marks them dead once and skips them after).
        await client.query('CREATE INDEX IF NOT EXISTS weft_wf_status_deltas_app ON weft_wf_status_deltas (app_id)');
        for (const fn of WORKFLOW_FUNCTIONS) await client.query(fn);
      } finally {
        await client.query('SELECT pg_advisory_unlock(774411)');
      }
    } finally {
      client.release();
    }
    return new PostgresWorkflowBackend(pool, appId, connectionString);
  }

  /**
   * Runs `fn` in a durable transaction. `notify(result)` says whether the commit made work available
   * that other replicas should hear about; the NOTIFY then goes with the COMMIT (delivered only if it
   * commits, in the same round trip).
   */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, notify?: (result: T) => boolean): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN; SET LOCAL synchronous_commit = on');
      const result = await fn(c);
      await c.query(notify?.(result) ? this.notifyAndCommit : 'COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  private async row(c: pg.PoolClient | pg.Pool, instanceId: string, lock = false): Promise<InstanceRow | undefined> {
    const r = await c.query<InstanceRow>(
      prepared(lock ? 'weft_wf_row_lock' : 'weft_wf_row', `SELECT ${INSTANCE_COLUMNS} FROM weft_wf_instances WHERE app_id = $1 AND instance_id = $2${lock ? ' FOR UPDATE' : ''}`, [
        this.appId,
        instanceId,
      ]),
    );
    return r.rows[0];
  }

  private async deleteInstanceRows(c: pg.PoolClient, instanceId: string): Promise<void> {
    for (const table of ['weft_wf_instances', 'weft_wf_history', 'weft_wf_inbox', 'weft_wf_activities']) {
      await c.query(`DELETE FROM ${table} WHERE app_id = $1 AND instance_id = $2`, [this.appId, instanceId]);
    }
  }

  private async insertInstance(c: pg.PoolClient, i: NewInstance): Promise<void> {
    await this.deleteInstanceRows(c, i.instanceId);
    const at = i.createdAt.getTime();
    await c.query(
      `INSERT INTO weft_wf_instances (app_id, instance_id, name, status, execution_id, input, created_at, updated_at,
         scheduled_start_at, parent_instance_id, parent_task_id) VALUES ($1, $2, $3, 'PENDING', $4, $5, $6, $6, $7, $8, $9)`,
      [this.appId, i.instanceId, i.name, i.executionId, i.input, at, i.scheduledStartAt?.getTime() ?? null, i.parentInstanceId, i.parentTaskId],
    );
    await this.insertInbox(c, { instanceId: i.instanceId, event: i.startEvent, visibleAt: i.createdAt });
  }

  private async insertInbox(c: pg.PoolClient, m: OutgoingMessage): Promise<void> {
    await c.query('INSERT INTO weft_wf_inbox (app_id, instance_id, event, visible_at, timer) VALUES ($1, $2, $3, $4, $5)', [
      this.appId,
      m.instanceId,
      JSON.stringify(m.event),
      m.visibleAt.getTime(),
      Boolean(m.event.timerFired),
    ]);
  }

  async createInstance(instance: NewInstance): Promise<boolean> {
    return this.creates.add(instance);
  }

  /**
   * Group commit (see {@link WriteBatcher}): the starts, steps and activity results of one event loop
   * turn go in one statement each, through the functions of `postgres-functions.ts`; sorted by
   * instance id, so two replicas' batches lock rows in the same order. A write that makes work
   * available to other replicas sends a NOTIFY with the commit.
   */
  private readonly creates = new WriteBatcher<NewInstance, boolean>(async (items) => {
    const order = sortedBy(items, (i) => i.instanceId);
    const r = await this.pool.query<{ ord: string; ok: boolean }>(
      prepared(
        'weft_wf_creates',
        `WITH r AS (SELECT x.ord, weft_wf_create_instance_v1($1, x.i) AS ok FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(i, ord))
         SELECT ord, ok, CASE WHEN ok THEN pg_notify($3, $4) END AS n FROM r ORDER BY ord`,
        [this.appId, JSON.stringify(order.map((k) => instanceJson(items[k]!))), this.channel, this.notifier],
      ),
    );
    return unsort(order, r.rows.map((row) => row.ok));
  });

  private readonly steps = new WriteBatcher<{ owner: string; step: OrchestrationStep; now: Date }, boolean>(async (items) => {
    const order = sortedBy(items, (i) => i.step.instanceId);
    // Each step removes the messages it consumed.
    this.removed(items.reduce((n, i) => n + i.step.consumedSeqs.length, 0));
    const r = await this.pool.query<{ ord: string; ok: boolean }>(
      prepared(
        'weft_wf_steps',
        `WITH r AS (SELECT x.ord, weft_wf_commit_step_v2($1, x.s) AS ok, (x.s->>'notify')::boolean AS notify
                    FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(s, ord))
         SELECT ord, ok, CASE WHEN ok AND notify THEN pg_notify($3, $4) END AS n FROM r ORDER BY ord`,
        [this.appId, JSON.stringify(order.map((k) => stepJson(items[k]!.owner, items[k]!.step, items[k]!.now))), this.channel, this.notifier],
      ),
    );
    return unsort(order, r.rows.map((row) => row.ok));
  });

  private readonly completions = new WriteBatcher<{ instanceId: string; taskId: number; event: HistoryEvent; now: Date }, boolean>(async (items) => {
    // One statement: each task leaves the queue and its result enters the inbox atomically; a task
    // completed already (or twice in the batch) is skipped.
    const r = await this.pool.query<{ ord: number }>(
      prepared(
        'weft_wf_completions',
        `WITH x AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(ord int, instance_id text, task_id int, event text, visible_at bigint)),
              done AS (DELETE FROM weft_wf_activities a USING x WHERE a.app_id = $1 AND a.instance_id = x.instance_id AND a.task_id = x.task_id
                       RETURNING x.ord),
              queued AS (INSERT INTO weft_wf_inbox (app_id, instance_id, event, visible_at, timer)
                         SELECT $1, x.instance_id, x.event, x.visible_at, false FROM x JOIN done USING (ord) ORDER BY x.ord RETURNING 1)
         SELECT ord, set_config('synchronous_commit', 'on', true) AS durable, pg_notify($3, $4) AS n FROM done`,
        [
          this.appId,
          JSON.stringify(
            sortedBy(items, (i) => `${i.instanceId}\u0000${i.taskId}`).map((k) => {
              const i = items[k]!;
              return { ord: k, instance_id: i.instanceId, task_id: i.taskId, event: JSON.stringify(i.event), visible_at: i.now.getTime() };
            }),
          ),
          this.channel,
          this.notifier,
        ],
      ),
    );
    this.removed(r.rows.length);
    const done = new Set(r.rows.map((row) => Number(row.ord)));
    return items.map((_, k) => done.has(k));
  });

  /**
   * Activity results that lock their instance when it is free (`weft_wf_complete_activity_lock_v1`),
   * the turn's in one statement, sorted by instance id (the function locks the instance row first).
   * Other replicas hear of a result only when it did not lock its instance (they could not take it).
   */
  private readonly lockingCompletions = new WriteBatcher<LockingCompletion, ActivityCompletion>(async (items) => {
    const order = sortedBy(items, (i) => `${i.instanceId}\u0000${i.taskId}`);
    const r = await this.pool.query<{ r: LockedResultJson | null }>(
      prepared(
        'weft_wf_completions_lock',
        `WITH x AS (SELECT x.ord, weft_wf_complete_activity_lock_v1($1, x.c) AS r FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(c, ord))
         SELECT r, CASE WHEN r IS NOT NULL AND NOT r ? 'instance' THEN pg_notify($3, $4) END AS n FROM x ORDER BY ord`,
        [this.appId, JSON.stringify(order.map((k) => lockingCompletionJson(items[k]!))), this.channel, this.notifier],
      ),
    );
    const results = r.rows.map((row) => lockedResult(row.r));
    this.removed(results.filter((c) => c.accepted).length);
    return unsort(order, results);
  });

  async completeActivityAndLock(instanceId: string, taskId: number, event: HistoryEvent, now: Date, lock: OrchestrationLockRequest): Promise<ActivityCompletion> {
    return this.lockingCompletions.add({ instanceId, taskId, event, now, lock });
  }

  async createForkedInstance(f: ForkedInstance): Promise<string | undefined> {
    const ids = [f.instanceId, ...f.newInstances.map((c) => c.instanceId)];
    return this.tx(async (c) => {
      const existing = await c.query<{ instance_id: string }>('SELECT instance_id FROM weft_wf_instances WHERE app_id = $1 AND instance_id = ANY($2)', [
        this.appId,
        ids,
      ]);
      const taken = ids.find((id) => existing.rows.some((r) => r.instance_id === id));
      if (taken !== undefined) return taken;
      const t = f.createdAt.getTime();
      await c.query(
        `INSERT INTO weft_wf_instances (app_id, instance_id, name, status, execution_id, input, created_at, updated_at)
         VALUES ($1, $2, $3, 'RUNNING', $4, $5, $6, $6)`,
        [this.appId, f.instanceId, f.name, f.executionId, f.input, t],
      );
      if (f.history.length > 0) {
        await c.query(
          `INSERT INTO weft_wf_history (app_id, instance_id, seq, event)
           SELECT $1, $2, s, e FROM unnest($3::int[], $4::text[]) AS h(s, e)`,
          [this.appId, f.instanceId, f.history.map((_, i) => i + 1), f.history.map((e) => JSON.stringify(e))],
        );
      }
      for (const a of f.activities) {
        await c.query(
          'INSERT INTO weft_wf_activities (app_id, instance_id, task_id, execution_id, name, input, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [this.appId, f.instanceId, a.taskId, f.executionId, a.name, a.input, t],
        );
      }
      for (const m of f.messages) await this.insertInbox(c, m);
      for (const child of f.newInstances) await this.insertInstance(c, child);
      return undefined;
    }).catch((err: unknown) => {
      // A concurrent creation of the same id: the loser sees a unique violation.
      if ((err as { code?: string }).code === '23505') return f.instanceId;
      throw err;
    });
  }

  async enqueue(message: OutgoingMessage): Promise<boolean> {
    return this.tx(async (c) => {
      const existing = await this.row(c, message.instanceId);
      if (!existing || isTerminal(existing.status as WorkflowStatus)) return false;
      await this.insertInbox(c, message);
      return true;
    }, (queued) => queued);
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = await this.row(this.pool, instanceId);
    return row ? toInstance(row) : undefined;
  }

  async idleWithPendingWork(idleBefore: Date, now: Date): Promise<PendingWorkInstance[]> {
    const r = await this.pool.query<PendingWorkRow>(
      `SELECT i.instance_id AS id, i.status AS status, i.updated_at AS updated, i.lock_expires_at AS lock,
           (SELECT MIN(m.visible_at) FROM weft_wf_inbox m WHERE m.app_id = i.app_id AND m.instance_id = i.instance_id AND m.visible_at <= $1) AS inbox,
           (SELECT COUNT(*) FROM weft_wf_inbox m WHERE m.app_id = i.app_id AND m.instance_id = i.instance_id) AS queued,
           (SELECT MIN(a.created_at) FROM weft_wf_activities a WHERE a.app_id = i.app_id AND a.instance_id = i.instance_id) AS activity
         FROM weft_wf_instances i WHERE i.app_id = $2 AND i.status IN ('PENDING', 'RUNNING')
           AND (i.scheduled_start_at IS NULL OR i.scheduled_start_at <= $1) AND i.updated_at <= $3`,
      [now.getTime(), this.appId, idleBefore.getTime()],
    );
    return idleInstances(r.rows, idleBefore, now);
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    const r = await this.pool.query<{ event: string }>(
      prepared('weft_wf_history', 'SELECT event FROM weft_wf_history WHERE app_id = $1 AND instance_id = $2 ORDER BY seq', [this.appId, instanceId]),
    );
    return r.rows.map((h) => parseEvent(h.event));
  }

  async listInstances(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    const where = filterClause(filter, p, 2);
    const args: unknown[] = [this.appId, ...where.args];
    let sql = `SELECT ${INSTANCE_COLUMNS} FROM weft_wf_instances WHERE app_id = $1${where.sql}`;
    const after = continuationToken ? decodeToken(continuationToken) : undefined;
    if (after) {
      args.push(after[0], after[1]);
      // A row comparison: the index seeks straight to the position instead of filtering from the top.
      sql += ` AND (created_at, instance_id) < ($${args.length - 1}, $${args.length})`;
    }
    args.push(pageSize + 1);
    sql += ` ORDER BY created_at DESC, instance_id DESC LIMIT $${args.length}`;
    const rows = (await this.pool.query<InstanceRow>(sql, args)).rows;
    const page = rows.slice(0, pageSize).map(toInstance);
    const last = page[page.length - 1];
    return rows.length > pageSize && last
      ? { instances: page, continuationToken: encodeToken(last.createdAt.getTime(), last.instanceId) }
      : { instances: page };
  }

  /**
   * Counts queue rows removed and, past {@link VACUUM_AFTER_ROWS}, vacuums the queue tables in the
   * background (one at a time; SKIP_LOCKED so replicas never queue behind each other, no truncation
   * so it never waits for an exclusive lock). A role that does not own the tables gets a warning from
   * Postgres and nothing happens; autovacuum still runs.
   */
  private removed(rows: number): void {
    this.removedRows += rows;
    const now = Date.now();
    if (this.removedRows < VACUUM_AFTER_ROWS || this.vacuuming || this.closed || now - this.lastVacuum < VACUUM_INTERVAL_MS) return;
    this.removedRows = 0;
    this.lastVacuum = now;
    this.vacuuming = true;
    this.pool
      .query('VACUUM (SKIP_LOCKED, TRUNCATE false) weft_wf_inbox, weft_wf_activities, weft_wf_status_deltas')
      .catch(() => undefined)
      .finally(() => {
        this.vacuuming = false;
      });
  }

  /** Moves this app's count deltas into the totals (one statement: atomic, and concurrent folds skip each other's rows). */
  async foldCounts(): Promise<void> {
    await this.pool.query(
      `WITH moved AS (DELETE FROM weft_wf_status_deltas WHERE app_id = $1 RETURNING status, d),
            sums AS (SELECT status, SUM(d) AS n FROM moved GROUP BY status)
       INSERT INTO weft_wf_status_counts (app_id, status, n) SELECT $1, status, n FROM sums
       ON CONFLICT (app_id, status) DO UPDATE SET n = weft_wf_status_counts.n + EXCLUDED.n`,
      [this.appId],
    );
  }

  async countInstances(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>> {
    if (isUnfiltered(filter)) {
      // Totals plus pending deltas, in one statement (one snapshot): exact without folding first.
      const r = await this.pool.query<{ status: WorkflowStatus; n: string }>(
        `SELECT status, SUM(n) AS n FROM (
           SELECT status, n FROM weft_wf_status_counts WHERE app_id = $1
           UNION ALL SELECT status, d FROM weft_wf_status_deltas WHERE app_id = $1) c
         GROUP BY status HAVING SUM(n) > 0`,
        [this.appId],
      );
      return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
    }
    const where = filterClause(filter, p, 2);
    const r = await this.pool.query<{ status: WorkflowStatus; n: string }>(
      `SELECT status, COUNT(*) AS n FROM weft_wf_instances WHERE app_id = $1${where.sql} GROUP BY status`,
      [this.appId, ...where.args],
    );
    return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
  }

  async recentInstances(since: Date): Promise<RecentInstance[]> {
    const r = await this.pool.query<{ name: string; status: WorkflowStatus; created_at: string; updated_at: string }>(
      `SELECT name, status, created_at, updated_at FROM weft_wf_instances WHERE app_id = $1 AND status = ANY($2) AND updated_at >= $3`,
      [this.appId, [...WORKFLOW_STATUSES], since.getTime()],
    );
    return r.rows.map((row) => ({ name: row.name, status: row.status, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) }));
  }

  async lockNextOrchestration(
    owner: string,
    leaseMs: number,
    now: Date,
    skip?: ReadonlySet<string>,
    known?: (instanceId: string) => KnownHistory | undefined,
  ): Promise<OrchestrationWorkItem | undefined> {
    const t = now.getTime();
    const skipping = skip !== undefined && skip.size > 0;
    // The messages in order, each instance looked up by key and locked only if free, stopping at the
    // first: the plan cannot turn into a scan of the instance table (a generic plan joined every
    // instance of the app to the inbox once the statistics called the inbox empty).
    // One statement claims the instance (its own transaction) and reads its messages and history
    // length; the history itself is read only when the caller's copy does not end where the store's
    // does (nobody else writes a leased instance's history). One round trip per claim, usually.
    const pick = await this.pool.query<InstanceRow & { history_length: number | null; message_seqs: string[] | null; message_events: string[] | null }>(
      prepared(
        skipping ? 'weft_wf_claim_skip' : 'weft_wf_claim',
        `WITH c AS (UPDATE weft_wf_instances u SET lock_owner = $3, lock_expires_at = $4
           WHERE (u.app_id, u.instance_id) = (
             SELECT m.app_id, m.instance_id FROM (
               SELECT app_id, instance_id, seq FROM weft_wf_inbox WHERE app_id = $1 AND visible_at <= $2
                 ${skipping ? 'AND instance_id <> ALL($5::text[])' : ''}
               ORDER BY seq) m
             CROSS JOIN LATERAL (
               SELECT 1 FROM weft_wf_instances i WHERE i.app_id = m.app_id AND i.instance_id = m.instance_id
                 AND i.status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED', 'SUSPENDED')
                 AND (i.lock_expires_at IS NULL OR i.lock_expires_at < $2) AND (i.scheduled_start_at IS NULL OR i.scheduled_start_at <= $2)
               FOR UPDATE SKIP LOCKED) free
             ORDER BY m.seq LIMIT 1)
           RETURNING ${INSTANCE_COLUMNS.split(',').map((c) => `u.${c.trim()}`).join(', ')})
         SELECT c.*,
           (SELECT MAX(h.seq) FROM weft_wf_history h WHERE h.app_id = $1 AND h.instance_id = c.instance_id) AS history_length,
           m.seqs AS message_seqs, m.events AS message_events
         FROM c LEFT JOIN LATERAL (
           SELECT array_agg(seq ORDER BY seq) AS seqs, array_agg(event ORDER BY seq) AS events FROM weft_wf_inbox
           WHERE app_id = $1 AND instance_id = c.instance_id AND visible_at <= $2) m ON true`,
        [this.appId, t, owner, t + leaseMs, ...(skipping ? [[...skip]] : [])],
      ),
    );
    const row = pick.rows[0];
    if (!row) return undefined;
    const messages = (row.message_events ?? []).map((event, k) => ({ seq: Number(row.message_seqs![k]), event: parseEvent(event) }));
    const instance = toInstance(row);
    const length = row.history_length ?? 0;
    if (length === 0) return { instance, history: [], messages };
    const have = known?.(row.instance_id);
    // The caller holds this execution's first have.length events: when the store has no more, it has
    // them all (within an execution the history only grows), and nothing needs reading.
    if (have && have.executionId === row.execution_id && have.length > 0 && have.length <= length) {
      if (have.length === length) return { instance, history: [], messages, historyFrom: length };
      const after = await this.pool.query<{ event: string }>(
        prepared('weft_wf_history_after', 'SELECT event FROM weft_wf_history WHERE app_id = $1 AND instance_id = $2 AND seq > $3 ORDER BY seq', [
          this.appId,
          row.instance_id,
          have.length,
        ]),
      );
      return { instance, history: after.rows.map((h) => parseEvent(h.event)), messages, historyFrom: have.length };
    }
    return { instance, history: await this.getHistory(row.instance_id), messages };
  }

  async commitStep(owner: string, step: OrchestrationStep, now: Date): Promise<boolean> {
    return this.steps.add({ owner, step, now });
  }

  private async appendHistory(c: pg.PoolClient, instanceId: string, events: HistoryEvent[]): Promise<void> {
    if (events.length === 0) return;
    await c.query(
      `INSERT INTO weft_wf_history (app_id, instance_id, seq, event)
       SELECT $1, $2, COALESCE((SELECT MAX(seq) FROM weft_wf_history WHERE app_id = $1 AND instance_id = $2), 0) + e.ord, e.event
       FROM unnest($3::text[]) WITH ORDINALITY AS e(event, ord)`,
      [this.appId, instanceId, events.map((e) => JSON.stringify(e))],
    );
  }

  async releaseOrchestration(owner: string, instanceId: string): Promise<void> {
    await this.pool.query(
      `WITH released AS (UPDATE weft_wf_instances SET lock_owner = NULL, lock_expires_at = NULL
         WHERE app_id = $1 AND instance_id = $2 AND lock_owner = $3 RETURNING 1)
       SELECT pg_notify($4, $5) FROM released`,
      [this.appId, instanceId, owner, this.channel, this.notifier],
    );
  }

  async lockActivities(owner: string, leaseMs: number, now: Date, max: number): Promise<ActivityWorkItem[]> {
    if (max < 1) return [];
    const t = now.getTime();
    // One statement claims the batch: the oldest free tasks, each leased and counted as an attempt.
    const r = await this.pool.query<{ instance_id: string; task_id: number; execution_id: string; name: string; input: string | null; attempt: number; created_at: string }>(
      `UPDATE weft_wf_activities a SET lock_owner = $2, lock_expires_at = $3, attempt = a.attempt + 1
       WHERE (a.app_id, a.instance_id, a.task_id) IN (
         SELECT app_id, instance_id, task_id FROM weft_wf_activities
         WHERE app_id = $1 AND (lock_expires_at IS NULL OR lock_expires_at < $4)
         ORDER BY created_at, task_id LIMIT $5 FOR UPDATE SKIP LOCKED)
       RETURNING a.instance_id, a.task_id, a.execution_id, a.name, a.input, a.attempt, a.created_at`,
      [this.appId, owner, t + leaseMs, t, max],
    );
    // RETURNING comes in no particular order.
    const rows = r.rows.sort((a, b) => Number(a.created_at) - Number(b.created_at) || a.task_id - b.task_id);
    return rows.map((row) => ({ instanceId: row.instance_id, taskId: row.task_id, executionId: row.execution_id, name: row.name, input: row.input, attempt: row.attempt }));
  }

  async completeActivity(instanceId: string, taskId: number, event: HistoryEvent, now: Date): Promise<boolean> {
    return this.completions.add({ instanceId, taskId, event, now });
  }

  async releaseActivity(owner: string, instanceId: string, taskId: number): Promise<void> {
    await this.pool.query(
      `WITH released AS (UPDATE weft_wf_activities SET lock_owner = NULL, lock_expires_at = NULL
         WHERE app_id = $1 AND instance_id = $2 AND task_id = $3 AND lock_owner = $4 RETURNING 1)
       SELECT pg_notify($5, $6) FROM released`,
      [this.appId, instanceId, taskId, owner, this.channel, this.notifier],
    );
  }

  async renewLeases(owner: string, leaseMs: number, now: Date): Promise<void> {
    const until = now.getTime() + leaseMs;
    await this.pool.query('UPDATE weft_wf_instances SET lock_expires_at = $1 WHERE app_id = $2 AND lock_owner = $3', [until, this.appId, owner]);
    await this.pool.query('UPDATE weft_wf_activities SET lock_expires_at = $1 WHERE app_id = $2 AND lock_owner = $3', [until, this.appId, owner]);
  }

  async nextWakeAt(now: Date): Promise<Date | undefined> {
    const r = await this.pool.query<{ at: string | null }>(
      `SELECT LEAST(
         (SELECT MIN(visible_at) FROM weft_wf_inbox WHERE app_id = $1 AND visible_at > $2),
         (SELECT MIN(lock_expires_at) FROM weft_wf_instances WHERE app_id = $1 AND lock_expires_at > $2),
         (SELECT MIN(lock_expires_at) FROM weft_wf_activities WHERE app_id = $1 AND lock_expires_at > $2),
         (SELECT MIN(scheduled_start_at) FROM weft_wf_instances WHERE app_id = $1 AND status = 'PENDING' AND scheduled_start_at > $2)) AS at`,
      [this.appId, now.getTime()],
    );
    const at = r.rows[0]?.at;
    return at === null || at === undefined ? undefined : new Date(Number(at));
  }

  private async facts(c: pg.PoolClient, instanceId: string): Promise<InstanceFacts | undefined> {
    const r = await c.query<FactsRow>(factsQuery('weft_wf_instances', 'weft_wf_history', '$1', '$2', ' FOR UPDATE OF i'), [this.appId, instanceId]);
    return toFacts(r.rows[0]);
  }

  /**
   * Applies a planned transition in the transaction, if the instance still has the status and
   * execution it was planned from (it has: the facts were read under the row lock); returns the
   * unfinished children when it finishes the instance, undefined when the guard failed.
   */
  private async apply(c: pg.PoolClient, x: Transition): Promise<string[] | undefined> {
    const id = x.instanceId;
    const updated = await c.query(
      `UPDATE weft_wf_instances SET status = $1, output = CASE WHEN $2 THEN $3 ELSE output END, updated_at = $4,
         lock_owner = CASE WHEN $5 THEN NULL ELSE lock_owner END, lock_expires_at = CASE WHEN $5 THEN NULL ELSE lock_expires_at END
       WHERE app_id = $6 AND instance_id = $7 AND status = $8 AND execution_id = $9`,
      [x.status, x.output !== undefined, x.output ?? null, x.at.getTime(), x.finish, this.appId, id, x.guard.status, x.guard.executionId],
    );
    if (updated.rowCount === 0) return undefined;
    if (x.finish) {
      await c.query('DELETE FROM weft_wf_activities WHERE app_id = $1 AND instance_id = $2', [this.appId, id]);
      await c.query('DELETE FROM weft_wf_inbox WHERE app_id = $1 AND instance_id = $2', [this.appId, id]);
    }
    await this.appendHistory(c, id, x.appendHistory);
    const m = x.parentMessage;
    const parent = m ? await this.row(c, m.instanceId) : undefined;
    if (m && parent && !isTerminal(parent.status as WorkflowStatus)) await this.insertInbox(c, m);
    if (!x.finish) return [];
    const children = await c.query<{ instance_id: string }>(
      `SELECT instance_id FROM weft_wf_instances WHERE app_id = $1 AND parent_instance_id = $2 AND status NOT IN ${TERMINAL_SQL}`,
      [this.appId, id],
    );
    return children.rows.map((r) => r.instance_id);
  }

  async terminate(instanceId: string, output: string | null, now: Date): Promise<TerminateResult> {
    const done = await this.tx(async (c): Promise<{ result: TerminateResult; wakes: boolean }> => {
      for (;;) {
        const plan = planTerminate(instanceId, await this.facts(c, instanceId), output, now);
        if (plan.kind === 'unknown') return { result: { found: false }, wakes: false };
        if (plan.kind === 'finished') return { result: { found: true, alreadyFinished: true, children: [] }, wakes: false };
        const children = await this.apply(c, plan.transition);
        if (children) return { result: { found: true, alreadyFinished: false, children }, wakes: plan.transition.wakes };
      }
    }, (d) => d.wakes);
    return done.result;
  }

  async setSuspended(instanceId: string, suspended: boolean, now: Date): Promise<WorkflowStatus | undefined> {
    const plan = await this.tx(async (c) => {
      for (;;) {
        const p = planSuspend(instanceId, await this.facts(c, instanceId), suspended, now);
        if (!p.transition || (await this.apply(c, p.transition))) return p;
      }
    }, (p) => p.transition?.wakes === true);
    return plan.previous;
  }

  async purge(instanceId: string): Promise<number> {
    return this.tx((c) => this.purgeTree(c, instanceId));
  }

  private async purgeTree(c: pg.PoolClient, instanceId: string): Promise<number> {
    const row = await this.row(c, instanceId, true);
    if (!row || !purgeable(row.status as WorkflowStatus)) return 0;
    const children = await c.query<{ instance_id: string }>('SELECT instance_id FROM weft_wf_instances WHERE app_id = $1 AND parent_instance_id = $2', [
      this.appId,
      instanceId,
    ]);
    let count = 0;
    for (const child of children.rows) count += await this.purgeTree(c, child.instance_id);
    await this.deleteInstanceRows(c, instanceId);
    return count + 1;
  }

  async purgeWhere(filter: InstanceFilter, limit?: number): Promise<number> {
    const statuses = purgeStatuses(filter);
    if (statuses.length === 0) return 0;
    const where = filterClause({ ...filter, statuses }, p, 2);
    const batch = purgeBatch(limit);
    const bounded = batch === undefined ? '' : ` LIMIT ${batch}`;
    return this.tx(async (c) => {
      const rows = await c.query<{ instance_id: string }>(`SELECT instance_id FROM weft_wf_instances WHERE app_id = $1${where.sql}${bounded}`, [
        this.appId,
        ...where.args,
      ]);
      let count = 0;
      for (const r of rows.rows) count += await this.purgeTree(c, r.instance_id);
      return count;
    });
  }

  watchNewWork(onWork: () => void, onError: (err: unknown) => void): void {
    this.listener ??= new NewWorkListener(this.connectionString, this.channel, this.notifier, onWork, onError);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.foldTimer);
    await this.listener?.close();
    await this.pool.end();
  }
}

/**
 * A named prepared statement: each pool connection parses and plans it once, instead of once per call
 * (parsing and planning were a third of the database's CPU per workflow). `name` stands for `text`
 * alone (the same name with another text would be refused by the driver).
 */
function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name, text, values };
}

/** Positions of `items` in the order of `key` (lock order of a batch). */
function sortedBy<T>(items: T[], key: (item: T) => string): number[] {
  return items.map((_, k) => k).sort((a, b) => {
    const ka = key(items[a]!);
    const kb = key(items[b]!);
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

/** Results of a batch sent in `order` (`sortedBy`), back in the callers' order. */
function unsort<R>(order: number[], sorted: R[]): R[] {
  const results = new Array<R>(order.length);
  order.forEach((k, position) => {
    results[k] = sorted[position] as R;
  });
  return results;
}

/** An instance to create, as `weft_wf_insert_instance_v1` reads it. */
function instanceJson(i: NewInstance): Record<string, unknown> {
  return {
    instanceId: i.instanceId,
    name: i.name,
    executionId: i.executionId,
    input: i.input,
    createdAt: i.createdAt.getTime(),
    scheduledStartAt: i.scheduledStartAt?.getTime() ?? null,
    parentInstanceId: i.parentInstanceId,
    parentTaskId: i.parentTaskId,
    startEvent: JSON.stringify(i.startEvent),
  };
}

/** A step, as `weft_wf_commit_step_v2` reads it (events as the JSON text stored). */
function stepJson(owner: string, step: OrchestrationStep, now: Date): Record<string, unknown> {
  return {
    owner,
    now: now.getTime(),
    instanceId: step.instanceId,
    executionId: step.executionId,
    consumedSeqs: step.consumedSeqs,
    resetHistory: step.resetHistory,
    appendHistory: step.appendHistory.map((e) => JSON.stringify(e)),
    status: step.status,
    ...(step.input !== undefined ? { input: step.input } : {}),
    ...(step.newExecutionId !== undefined ? { newExecutionId: step.newExecutionId } : {}),
    output: step.output,
    customStatus: step.customStatus,
    failure: step.failure ? JSON.stringify(step.failure) : null,
    activities: step.activities,
    ...(step.lockActivities ? { lockActivities: step.lockActivities } : {}),
    messages: step.messages.map((m) => ({ instanceId: m.instanceId, event: JSON.stringify(m.event), visibleAt: m.visibleAt.getTime(), timer: Boolean(m.event.timerFired) })),
    newInstances: step.newInstances.map(instanceJson),
    notify: madeWorkForOthers(step, now),
  };
}

/** An activity result to store, locking its instance when free. */
interface LockingCompletion {
  instanceId: string;
  taskId: number;
  event: HistoryEvent;
  now: Date;
  lock: OrchestrationLockRequest;
}

/** A {@link LockingCompletion} as `weft_wf_complete_activity_lock_v1` reads it. */
function lockingCompletionJson(c: LockingCompletion): Record<string, unknown> {
  const known = c.lock.known?.(c.instanceId);
  return {
    instanceId: c.instanceId,
    taskId: c.taskId,
    event: JSON.stringify(c.event),
    now: c.now.getTime(),
    owner: c.lock.owner,
    leaseMs: c.lock.leaseMs,
    ...(known ? { knownExecutionId: known.executionId, knownLength: known.length } : {}),
  };
}

/** What `weft_wf_complete_activity_lock_v1` returns (NULL: refused; `{}`: stored, not locked). */
interface LockedResultJson {
  instance?: InstanceRow;
  messages?: [number | string, string][];
  history?: string[];
  historyFrom?: number | null;
}

function lockedResult(r: LockedResultJson | null): ActivityCompletion {
  if (r === null) return { accepted: false };
  if (!r.instance) return { accepted: true };
  const item: OrchestrationWorkItem = {
    instance: toInstance(r.instance),
    history: (r.history ?? []).map(parseEvent),
    messages: (r.messages ?? []).map(([seq, event]) => ({ seq: Number(seq), event: parseEvent(event) })),
  };
  if (r.historyFrom) item.historyFrom = r.historyFrom;
  return { accepted: true, item };
}

/**
 * A connection that LISTENs on an app's work channel and reconnects after losing it (with backoff),
 * so replicas hear of new work at once. Notifications from `self` are ignored.
 */
class NewWorkListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly self: string,
    private readonly onWork: () => void,
    private readonly onError: (err: unknown) => void,
  ) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const pg = await loadPg();
    const client = new pg.Client({ connectionString: this.connectionString });
    this.client = client;
    client.on('notification', (n) => {
      if (n.payload !== this.self) this.onWork();
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      this.failures = 0;
      // Work may have appeared while no one listened.
      if (!this.closed) this.onWork();
    } catch (err) {
      this.lost(client, err);
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.onError(err);
    this.failures += 1;
    this.retryTimer = setTimeout(() => void this.connect(), Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7)));
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
