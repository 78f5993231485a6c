/**
 * The embedded workflow backend: one WAL-mode SQLite file (`<dataDir>/workflows.sqlite`). Every write
 * is an IMMEDIATE transaction, so several Weft processes sharing the file never interleave a lock and
 * the step it guards; the writes asked for in one event loop turn share one transaction (group
 * commit). Rows carry the app id, so apps sharing a data directory stay apart.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../util/open-sqlite.js';
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
import type { Logger } from '../logging/logger.js';
import { WalCheckpointer } from '../util/sqlite-wal-checkpointer.js';
import { isBusy, retryWhenBusy } from '../util/sqlite-busy.js';
import { INSTANCE_COLUMNS, isUnfiltered, decodeToken, encodeToken, factsQuery, filterClause, idleInstances, parseEvent, toFacts, toInstance } from './sql-rows.js';
import type { InstanceFacts, Transition } from './transitions.js';
import { planSuspend, planTerminate, purgeBatch, purgeStatuses, purgeable, statusAfterStep } from './transitions.js';
import type { FactsRow, InstanceRow, PendingWorkRow } from './sql-rows.js';
import type { HistoryEvent, InstanceRecord, WorkflowStatus } from './types.js';
import { WORKFLOW_STATUSES, isTerminal } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS wf_instances (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  execution_id TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT, failure TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, scheduled_start_at INTEGER,
  parent_instance_id TEXT, parent_task_id INTEGER, lock_owner TEXT, lock_expires_at INTEGER,
  PRIMARY KEY (app_id, instance_id)
);
-- The list's order (newest first, id as tie-break) and its keyset, per status and per name too, so a
-- filtered page and the counts per status read index entries only (100,000 instances stay fast).
DROP INDEX IF EXISTS wf_instances_created;
CREATE INDEX IF NOT EXISTS wf_instances_page ON wf_instances (app_id, created_at, instance_id);
CREATE INDEX IF NOT EXISTS wf_instances_status_page ON wf_instances (app_id, status, created_at, instance_id);
CREATE INDEX IF NOT EXISTS wf_instances_name_page ON wf_instances (app_id, name, status, created_at, instance_id);
CREATE INDEX IF NOT EXISTS wf_instances_parent ON wf_instances (app_id, parent_instance_id);
CREATE TABLE IF NOT EXISTS wf_history (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
  PRIMARY KEY (app_id, instance_id, seq)
);
CREATE TABLE IF NOT EXISTS wf_inbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, app_id TEXT NOT NULL, instance_id TEXT NOT NULL,
  event TEXT NOT NULL, visible_at INTEGER NOT NULL, timer INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS wf_inbox_instance ON wf_inbox (app_id, instance_id, visible_at);
CREATE INDEX IF NOT EXISTS wf_inbox_visible ON wf_inbox (app_id, visible_at);
CREATE TABLE IF NOT EXISTS wf_activities (
  app_id TEXT NOT NULL, instance_id TEXT NOT NULL, task_id INTEGER NOT NULL, execution_id TEXT NOT NULL,
  name TEXT NOT NULL, input TEXT, attempt INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  lock_owner TEXT, lock_expires_at INTEGER,
  PRIMARY KEY (app_id, instance_id, task_id)
);
CREATE INDEX IF NOT EXISTS wf_activities_created ON wf_activities (app_id, created_at);
-- Unfinished instances by status (stuck scan, retention) and the wake-up times: none of these
-- queries may scan finished instances (issue 10: flat as history grows).
-- name and created_at ride along so the health overview (changes since a time) reads this index only.
DROP INDEX IF EXISTS wf_instances_status;
CREATE INDEX IF NOT EXISTS wf_instances_status_recent ON wf_instances (app_id, status, updated_at, name, created_at);
CREATE INDEX IF NOT EXISTS wf_instances_lock ON wf_instances (app_id, lock_expires_at) WHERE lock_expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS wf_instances_scheduled ON wf_instances (app_id, scheduled_start_at) WHERE scheduled_start_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS wf_activities_lock ON wf_activities (app_id, lock_expires_at) WHERE lock_expires_at IS NOT NULL;
`;

/**
 * Instances per status, kept by triggers, so the dashboard's unfiltered counts are one small read
 * however many instances the store holds. Created with a backfill in one write transaction, so a
 * store from before the counters starts with exact numbers.
 */
const COUNTERS = `
CREATE TABLE IF NOT EXISTS wf_status_counts (
  app_id TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (app_id, status)
) WITHOUT ROWID;
CREATE TRIGGER wf_count_insert AFTER INSERT ON wf_instances BEGIN
  INSERT INTO wf_status_counts (app_id, status, n) VALUES (NEW.app_id, NEW.status, 1)
    ON CONFLICT (app_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER wf_count_delete AFTER DELETE ON wf_instances BEGIN
  UPDATE wf_status_counts SET n = n - 1 WHERE app_id = OLD.app_id AND status = OLD.status;
END;
CREATE TRIGGER wf_count_update AFTER UPDATE OF status ON wf_instances WHEN OLD.status <> NEW.status BEGIN
  UPDATE wf_status_counts SET n = n - 1 WHERE app_id = OLD.app_id AND status = OLD.status;
  INSERT INTO wf_status_counts (app_id, status, n) VALUES (NEW.app_id, NEW.status, 1)
    ON CONFLICT (app_id, status) DO UPDATE SET n = n + 1;
END;
DELETE FROM wf_status_counts;
INSERT INTO wf_status_counts (app_id, status, n) SELECT app_id, status, COUNT(*) FROM wf_instances GROUP BY app_id, status;
`;

/** An instance's history from a position (seq) on. */
const HISTORY_FROM = 'SELECT seq, event FROM wf_history WHERE app_id = ? AND instance_id = ? AND seq >= ? ORDER BY seq';

// The SQL of the hot statements, built once: `q` finds a prepared statement by its text, and a text
// put together on every call is hashed and compared in full on every call (a profile showed it).
const SELECT_INSTANCE = `SELECT ${INSTANCE_COLUMNS} FROM wf_instances WHERE app_id = ? AND instance_id = ?`;
const DELETE_INSTANCE_ROWS = ['wf_instances', 'wf_history', 'wf_inbox', 'wf_activities'].map((table) => `DELETE FROM ${table} WHERE app_id = ? AND instance_id = ?`);
const pickSql = (skipping: boolean) =>
  `SELECT m.instance_id AS id FROM wf_inbox m JOIN wf_instances i ON i.app_id = m.app_id AND i.instance_id = m.instance_id
         WHERE m.app_id = ? AND m.visible_at <= ? AND i.status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED', 'SUSPENDED')
           AND (i.lock_expires_at IS NULL OR i.lock_expires_at < ?) AND (i.scheduled_start_at IS NULL OR i.scheduled_start_at <= ?)
           ${skipping ? 'AND m.instance_id NOT IN (SELECT value FROM json_each(?))' : ''}
         ORDER BY m.visible_at, m.seq LIMIT 1`;
const PICK = pickSql(false);
const PICK_SKIPPING = pickSql(true);
const CLAIM = `UPDATE wf_instances SET lock_owner = ?, lock_expires_at = ?
           WHERE app_id = ? AND instance_id = ? AND status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED', 'SUSPENDED')
             AND (lock_expires_at IS NULL OR lock_expires_at < ?) AND (scheduled_start_at IS NULL OR scheduled_start_at <= ?)
             AND EXISTS (SELECT 1 FROM wf_inbox m WHERE m.app_id = wf_instances.app_id AND m.instance_id = wf_instances.instance_id AND m.visible_at <= ?)
           RETURNING ${INSTANCE_COLUMNS}`;
const stepUpdateSql = (setStatus: boolean) =>
  `UPDATE wf_instances SET ${setStatus ? 'status = ?, ' : ''}execution_id = ?, input = CASE WHEN ? THEN ? ELSE input END, output = ?,
             custom_status = ?, failure = ?, updated_at = ?, lock_owner = NULL, lock_expires_at = NULL
           WHERE app_id = ? AND instance_id = ?`;
const STEP_UPDATE = stepUpdateSql(true);
const STEP_UPDATE_SAME_STATUS = stepUpdateSql(false);

/** A write waiting for the group commit. */
interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface ActivityRow {
  instance_id: string;
  task_id: number;
  execution_id: string;
  name: string;
  input: string | null;
  attempt: number;
}

/** SQLite implementation of {@link WorkflowBackend}. */
export class SqliteWorkflowBackend implements WorkflowBackend {
  private readonly db: Database.Database;

  /**
   * WAL checkpoints in a worker thread; the thread starts with the first write, so a sidecar whose
   * app runs no workflow never pays for it (about 10 MB of memory and its start-up).
   */
  private readonly checkpointer: WalCheckpointer | undefined;

  /**
   * `checkpointLogger`: checkpoint the WAL in a worker thread (reporting to it) instead of inside
   * commits on the event loop; the sidecar sets it, short-lived tools need not.
   */
  constructor(
    filePath: string,
    private readonly appId: string,
    private readonly busyTimeoutMs = 5000,
    checkpointLogger?: Logger,
  ) {
    this.db = openSqlite(filePath, busyTimeoutMs);
    this.db.exec(SCHEMA);
    this.installCounters();
    // Opening may wait (once, at start-up); from here on a held lock is waited for asynchronously
    // (`tx`), never by SQLite's busy handler sleeping on the event loop.
    this.db.pragma('busy_timeout = 0');
    if (checkpointLogger && filePath !== ':memory:') this.checkpointer = new WalCheckpointer(this.db, filePath, checkpointLogger, 'workflow store');
    this.runInTx = this.db.transaction((fn: () => unknown) => fn());
  }

  /** Creates the status counters once per store, with their backfill, atomically (several processes may open it). */
  private installCounters(): void {
    const present = () => this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'wf_count_update'").get() !== undefined;
    if (present()) return;
    this.db.transaction(() => {
      if (!present()) this.db.exec(COUNTERS);
    }).immediate();
  }

  // Prepared once: preparing a statement costs more than running it, and every step runs a dozen.
  private readonly statements = new Map<string, Database.Statement>();
  private readonly runInTx: Database.Transaction<(fn: () => unknown) => unknown>;

  private q(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Writes waiting for the next group commit. */
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;

  /**
   * Runs `fn` in a write transaction, together with every other write asked for in the same event
   * loop turn (group commit): steps, activity results, starts and claims that arrive together cost
   * one IMMEDIATE transaction and one WAL commit. Each caller hears of its write only after the
   * transaction committed.
   */
  private tx<T>(fn: () => T, now = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      // A claim does not wait for the turn to end: the dispatcher claims one item after another, and
      // a turn under load is long. It takes the writes queued so far with it.
      if (now) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const w of batch) w.reject(new Error('the workflow store is closed'));
      return;
    }
    // While another process holds the write lock, the batch waits asynchronously (`retryWhenBusy`),
    // never in SQLite's busy handler on the event loop; an uncontended batch commits synchronously.
    retryWhenBusy(() => this.runInTx.immediate(() => batch.map((w) => w.run())) as unknown[], this.busyTimeoutMs).then(
      (results) => {
        this.checkpointer?.wrote();
        batch.forEach((w, i) => w.resolve(results[i]));
      },
      (err: unknown) => {
        // The lock could not be had within the busy timeout: all of them fail.
        if (batch.length === 1 || isBusy(err)) {
          for (const w of batch) w.reject(err);
          return;
        }
        // One write failed and rolled the others back with it: each again on its own, so only it fails.
        for (const w of batch) {
          try {
            w.resolve(this.runInTx.immediate(w.run));
          } catch (e) {
            w.reject(e);
          }
        }
        this.checkpointer?.wrote();
      },
    );
  }

  private row(instanceId: string): InstanceRow | undefined {
    return this.q(SELECT_INSTANCE)
      .get(this.appId, instanceId) as InstanceRow | undefined;
  }

  private deleteInstanceRows(instanceId: string): void {
    for (const sql of DELETE_INSTANCE_ROWS) this.q(sql).run(this.appId, instanceId);
  }

  private insertInstance(i: NewInstance): void {
    this.deleteInstanceRows(i.instanceId);
    const at = i.createdAt.getTime();
    this.q(
        `INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, input, created_at, updated_at,
           scheduled_start_at, parent_instance_id, parent_task_id) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(this.appId, i.instanceId, i.name, i.executionId, i.input, at, at, i.scheduledStartAt?.getTime() ?? null, i.parentInstanceId, i.parentTaskId);
    this.insertInbox({ instanceId: i.instanceId, event: i.startEvent, visibleAt: i.createdAt });
  }

  private insertInbox(m: OutgoingMessage): void {
    this.q('INSERT INTO wf_inbox (app_id, instance_id, event, visible_at, timer) VALUES (?, ?, ?, ?, ?)')
      .run(this.appId, m.instanceId, JSON.stringify(m.event), m.visibleAt.getTime(), m.event.timerFired ? 1 : 0);
  }

  async createInstance(instance: NewInstance): Promise<boolean> {
    return this.tx(() => {
      const existing = this.row(instance.instanceId);
      if (existing && !isTerminal(existing.status as WorkflowStatus)) return false;
      this.insertInstance(instance);
      return true;
    });
  }

  async createForkedInstance(f: ForkedInstance): Promise<string | undefined> {
    return this.tx(() => {
      const taken = [f.instanceId, ...f.newInstances.map((c) => c.instanceId)].find((id) => this.row(id));
      if (taken !== undefined) return taken;
      const t = f.createdAt.getTime();
      this.q(
          `INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, input, created_at, updated_at)
           VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?)`,
        )
        .run(this.appId, f.instanceId, f.name, f.executionId, f.input, t, t);
      const addHistory = this.q('INSERT INTO wf_history (app_id, instance_id, seq, event) VALUES (?, ?, ?, ?)');
      f.history.forEach((event, i) => addHistory.run(this.appId, f.instanceId, i + 1, JSON.stringify(event)));
      const addActivity = this.q(
        'INSERT INTO wf_activities (app_id, instance_id, task_id, execution_id, name, input, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const a of f.activities) addActivity.run(this.appId, f.instanceId, a.taskId, f.executionId, a.name, a.input, t);
      for (const m of f.messages) this.insertInbox(m);
      for (const child of f.newInstances) this.insertInstance(child);
      return undefined;
    });
  }

  async enqueue(message: OutgoingMessage): Promise<boolean> {
    return this.tx(() => {
      const existing = this.row(message.instanceId);
      if (!existing || isTerminal(existing.status as WorkflowStatus)) return false;
      this.insertInbox(message);
      return true;
    });
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = this.row(instanceId);
    return row ? toInstance(row) : undefined;
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    const rows = this.q('SELECT event FROM wf_history WHERE app_id = ? AND instance_id = ? ORDER BY seq')
      .all(this.appId, instanceId) as { event: string }[];
    return rows.map((r) => parseEvent(r.event));
  }

  async listInstances(filter: InstanceFilter, pageSize: number, continuationToken?: string): Promise<InstancePage> {
    const where = filterClause(filter, () => '?', 0);
    let sql = `SELECT ${INSTANCE_COLUMNS} FROM wf_instances WHERE app_id = ?${where.sql}`;
    const args: unknown[] = [this.appId, ...where.args];
    const after = continuationToken ? decodeToken(continuationToken) : undefined;
    if (after) {
      // A row value: the index seeks straight to the position instead of filtering from the top.
      sql += ' AND (created_at, instance_id) < (?, ?)';
      args.push(after[0], after[1]);
    }
    sql += ' ORDER BY created_at DESC, instance_id DESC LIMIT ?';
    args.push(pageSize + 1);
    const rows = this.q(sql).all(...args) as InstanceRow[];
    const page = rows.slice(0, pageSize).map(toInstance);
    const last = page[page.length - 1];
    return rows.length > pageSize && last
      ? { instances: page, continuationToken: encodeToken(last.createdAt.getTime(), last.instanceId) }
      : { instances: page };
  }

  async countInstances(filter: InstanceFilter): Promise<Partial<Record<WorkflowStatus, number>>> {
    if (isUnfiltered(filter)) {
      const rows = this.q('SELECT status, n FROM wf_status_counts WHERE app_id = ? AND n > 0').all(this.appId) as { status: WorkflowStatus; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    }
    const where = filterClause(filter, () => '?', 0);
    const rows = this.q(`SELECT status, COUNT(*) AS n FROM wf_instances WHERE app_id = ?${where.sql} GROUP BY status`)
      .all(this.appId, ...where.args) as { status: WorkflowStatus; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async recentInstances(since: Date): Promise<RecentInstance[]> {
    // `status IN (every status)` lets the (app_id, status, updated_at) index serve the range.
    const rows = this.q(
        `SELECT name, status, created_at, updated_at FROM wf_instances
         WHERE app_id = ? AND status IN (${WORKFLOW_STATUSES.map(() => '?').join(', ')}) AND updated_at >= ?`,
      )
      .all(this.appId, ...WORKFLOW_STATUSES, since.getTime()) as { name: string; status: WorkflowStatus; created_at: number; updated_at: number }[];
    return rows.map((r) => ({ name: r.name, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  /**
   * The instance whose oldest visible inbox event became visible first (by `visible_at`, then `seq`),
   * passing over `skip` (fan-out coalescing). That order is the `(app_id, visible_at)` index's own (its
   * ties go by rowid, which is `seq`), so the scan stops at the first free instance; ordered by `seq`
   * alone it read every visible event (those of the instances in flight too) and sorted them, on every
   * claim: the sidecar's largest single SQL cost under load.
   */
  private pickOrchestration(t: number, skip: ReadonlySet<string> | undefined): { id: string } | undefined {
    const skipping = skip !== undefined && skip.size > 0;
    return this.q(skipping ? PICK_SKIPPING : PICK)
      .get(this.appId, t, t, t, ...(skipping ? [JSON.stringify([...skip])] : [])) as { id: string } | undefined;
  }

  async lockNextOrchestration(
    owner: string,
    leaseMs: number,
    now: Date,
    skip?: ReadonlySet<string>,
    known?: (instanceId: string) => KnownHistory | undefined,
  ): Promise<OrchestrationWorkItem | undefined> {
    const t = now.getTime();
    // A claim that finds nothing costs a read, not a write transaction (most claims find nothing).
    const first = this.pickOrchestration(t, skip);
    if (!first) return undefined;
    return this.tx(() => {
      // Under the write lock, the instance must still be free with work visible: another process (or
      // a write grouped before this one) may have taken it meanwhile; then the next one is picked.
      const claim = (id: string) => this.q(CLAIM)
        .get(owner, t + leaseMs, this.appId, id, t, t, t) as InstanceRow | undefined;
      let row = claim(first.id);
      if (!row) {
        const again = this.pickOrchestration(t, skip);
        row = again ? claim(again.id) : undefined;
      }
      return row ? this.workItem(row, t, known) : undefined;
    }, true);
  }

  /** The work item of an instance just locked (in the current transaction): its visible inbox and history. */
  private workItem(row: InstanceRow, t: number, known: ((instanceId: string) => KnownHistory | undefined) | undefined): OrchestrationWorkItem {
    const id = row.instance_id;
    const messages = (
      this.q('SELECT seq, event FROM wf_inbox WHERE app_id = ? AND instance_id = ? AND visible_at <= ? ORDER BY seq')
        .all(this.appId, id, t) as { seq: number; event: string }[]
    ).map((m) => ({ seq: m.seq, event: parseEvent(m.event) }));
    const have = known?.(id);
    const from = have && have.executionId === row.execution_id ? have.length : 0;
    // From the last known event on (seq is its position, from 1): its presence proves the caller's
    // prefix is still there; only the events after it are parsed.
    const rows = this.q(HISTORY_FROM).all(this.appId, id, from) as { seq: number; event: string }[];
    if (from > 0 && rows[0]?.seq === from) {
      return { instance: toInstance(row), history: rows.slice(1).map((h) => parseEvent(h.event)), messages, historyFrom: from };
    }
    // Not the caller's prefix (a shorter history): the whole history, read again.
    const all = from > 0 ? (this.q(HISTORY_FROM).all(this.appId, id, 0) as { event: string }[]) : rows;
    return { instance: toInstance(row), history: all.map((h) => parseEvent(h.event)), messages };
  }

  async commitStep(owner: string, step: OrchestrationStep, now: Date): Promise<boolean> {
    return this.tx(() => {
      const t = now.getTime();
      const current = this.q('SELECT status, execution_id, lock_owner FROM wf_instances WHERE app_id = ? AND instance_id = ?')
        .get(this.appId, step.instanceId) as { status: WorkflowStatus; execution_id: string; lock_owner: string | null } | undefined;
      if (!current) return false;
      const valid = current.lock_owner === owner && current.execution_id === step.executionId && !isTerminal(current.status);
      if (!valid) {
        if (current.lock_owner === owner) this.unlock(step.instanceId);
        return false;
      }
      const id = step.instanceId;
      const del = this.q('DELETE FROM wf_inbox WHERE seq = ?');
      for (const seq of step.consumedSeqs) del.run(seq);
      if (step.resetHistory) {
        this.q('DELETE FROM wf_history WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
        this.q('DELETE FROM wf_activities WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
        // Timers of the old execution go; events raised meanwhile stay for the new one.
        this.q('DELETE FROM wf_inbox WHERE app_id = ? AND instance_id = ? AND timer = 1').run(this.appId, id);
      }
      const terminal = isTerminal(step.status);
      if (terminal) {
        this.q('DELETE FROM wf_activities WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
        this.q('DELETE FROM wf_inbox WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
      }
      const last = this.q('SELECT MAX(seq) AS s FROM wf_history WHERE app_id = ? AND instance_id = ?').get(this.appId, id) as {
        s: number | null;
      };
      const addHistory = this.q('INSERT INTO wf_history (app_id, instance_id, seq, event) VALUES (?, ?, ?, ?)');
      let seq = last.s ?? 0;
      for (const event of step.appendHistory) addHistory.run(this.appId, id, ++seq, JSON.stringify(event));
      const addActivity = this.q(
        'INSERT OR IGNORE INTO wf_activities (app_id, instance_id, task_id, execution_id, name, input, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const executionId = step.newExecutionId ?? step.executionId;
      // The first `lockActivities.max` are leased to this sidecar at once (push dispatch).
      const lock = step.lockActivities;
      const addLocked = this.q(
        `INSERT OR IGNORE INTO wf_activities (app_id, instance_id, task_id, execution_id, name, input, created_at, lock_owner, lock_expires_at, attempt)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
      );
      step.activities.forEach((a, i) => {
        if (lock && i < lock.max) addLocked.run(this.appId, id, a.taskId, executionId, a.name, a.input, t, owner, t + lock.leaseMs);
        else addActivity.run(this.appId, id, a.taskId, executionId, a.name, a.input, t);
      });
      for (const child of step.newInstances) this.insertInstance(child);
      for (const m of step.messages) {
        const target = m.instanceId === id ? current : this.row(m.instanceId);
        if (target && (m.instanceId === id || !isTerminal(target.status as WorkflowStatus))) this.insertInbox(m);
      }
      const status = statusAfterStep(current.status, step.status);
      // `status` is set only when it changes (a middle step leaves it RUNNING): SQLite rewrites the
      // entries of every index on a column an UPDATE assigns, and fires the status counter's trigger.
      const same = status === current.status;
      this.q(same ? STEP_UPDATE_SAME_STATUS : STEP_UPDATE)
        .run(
          ...(same ? [] : [status]),
          executionId,
          step.input !== undefined ? 1 : 0,
          step.input ?? null,
          step.output,
          step.customStatus,
          step.failure ? JSON.stringify(step.failure) : null,
          t,
          this.appId,
          id,
        );
      return true;
    });
  }

  private unlock(instanceId: string): void {
    this.q('UPDATE wf_instances SET lock_owner = NULL, lock_expires_at = NULL WHERE app_id = ? AND instance_id = ?').run(this.appId, instanceId);
  }

  async releaseOrchestration(owner: string, instanceId: string): Promise<void> {
    await this.tx(() => {
      this.q('UPDATE wf_instances SET lock_owner = NULL, lock_expires_at = NULL WHERE app_id = ? AND instance_id = ? AND lock_owner = ?')
        .run(this.appId, instanceId, owner);
    });
  }

  async lockActivities(owner: string, leaseMs: number, now: Date, max: number): Promise<ActivityWorkItem[]> {
    if (max < 1) return [];
    // As for orchestrations: a claim that finds nothing costs a read, not a write transaction.
    const any = this.q('SELECT 1 FROM wf_activities WHERE app_id = ? AND (lock_expires_at IS NULL OR lock_expires_at < ?) LIMIT 1')
      .get(this.appId, now.getTime());
    if (!any) return [];
    return this.tx(() => {
      const t = now.getTime();
      // One statement claims the batch: the oldest free tasks, each leased and counted as an attempt.
      const rows = this.q(
          `UPDATE wf_activities SET lock_owner = ?, lock_expires_at = ?, attempt = attempt + 1
           WHERE rowid IN (SELECT rowid FROM wf_activities WHERE app_id = ? AND (lock_expires_at IS NULL OR lock_expires_at < ?)
             ORDER BY created_at, task_id LIMIT ?)
           RETURNING instance_id, task_id, execution_id, name, input, attempt, created_at`,
        )
        .all(owner, t + leaseMs, this.appId, t, max) as (ActivityRow & { created_at: number })[];
      // RETURNING comes in no particular order.
      rows.sort((a, b) => a.created_at - b.created_at || a.task_id - b.task_id);
      return rows.map((row) => ({
        instanceId: row.instance_id,
        taskId: row.task_id,
        executionId: row.execution_id,
        name: row.name,
        input: row.input,
        attempt: row.attempt,
      }));
    }, true);
  }

  async completeActivity(instanceId: string, taskId: number, event: HistoryEvent, now: Date): Promise<boolean> {
    return this.tx(() => this.complete(instanceId, taskId, event, now));
  }

  private complete(instanceId: string, taskId: number, event: HistoryEvent, now: Date): boolean {
    const removed = this.q('DELETE FROM wf_activities WHERE app_id = ? AND instance_id = ? AND task_id = ?').run(this.appId, instanceId, taskId);
    if (removed.changes === 0) return false;
    this.insertInbox({ instanceId, event, visibleAt: now });
    return true;
  }

  /**
   * The result and, when the instance is free, its lock in one write transaction (grouped with the
   * turn's other writes): the claim transaction that would follow, and its inbox scan, are saved.
   */
  async completeActivityAndLock(instanceId: string, taskId: number, event: HistoryEvent, now: Date, lock: OrchestrationLockRequest): Promise<ActivityCompletion> {
    return this.tx(() => {
      if (!this.complete(instanceId, taskId, event, now)) return { accepted: false };
      const t = now.getTime();
      // The claim's own conditions (free, unfinished, not suspended, started; the result is visible).
      const row = this.q(CLAIM).get(lock.owner, t + lock.leaseMs, this.appId, instanceId, t, t, t) as InstanceRow | undefined;
      return row ? { accepted: true, item: this.workItem(row, t, lock.known) } : { accepted: true };
    });
  }

  async releaseActivity(owner: string, instanceId: string, taskId: number): Promise<void> {
    await this.tx(() => {
      this.q(
          'UPDATE wf_activities SET lock_owner = NULL, lock_expires_at = NULL WHERE app_id = ? AND instance_id = ? AND task_id = ? AND lock_owner = ?',
        )
        .run(this.appId, instanceId, taskId, owner);
    });
  }

  async renewLeases(owner: string, leaseMs: number, now: Date): Promise<void> {
    const until = now.getTime() + leaseMs;
    await this.tx(() => {
      this.q('UPDATE wf_instances SET lock_expires_at = ? WHERE app_id = ? AND lock_owner = ?').run(until, this.appId, owner);
      this.q('UPDATE wf_activities SET lock_expires_at = ? WHERE app_id = ? AND lock_owner = ?').run(until, this.appId, owner);
    });
  }

  async idleWithPendingWork(idleBefore: Date, now: Date): Promise<PendingWorkInstance[]> {
    const t = now.getTime();
    const rows = this.q(
        `SELECT i.instance_id AS id, i.status AS status, i.updated_at AS updated, i.lock_expires_at AS lock,
           (SELECT MIN(m.visible_at) FROM wf_inbox m WHERE m.app_id = i.app_id AND m.instance_id = i.instance_id AND m.visible_at <= ?) AS inbox,
           (SELECT COUNT(*) FROM wf_inbox m WHERE m.app_id = i.app_id AND m.instance_id = i.instance_id) AS queued,
           (SELECT MIN(a.created_at) FROM wf_activities a WHERE a.app_id = i.app_id AND a.instance_id = i.instance_id) AS activity
         FROM wf_instances i WHERE i.app_id = ? AND i.status IN ('PENDING', 'RUNNING')
           AND (i.scheduled_start_at IS NULL OR i.scheduled_start_at <= ?) AND i.updated_at <= ?`,
      )
      .all(t, this.appId, t, idleBefore.getTime()) as PendingWorkRow[];
    return idleInstances(rows, idleBefore, now);
  }

  async nextWakeAt(now: Date): Promise<Date | undefined> {
    const t = now.getTime();
    const row = this.q(
        `SELECT MIN(x) AS at FROM (
           SELECT MIN(visible_at) AS x FROM wf_inbox WHERE app_id = ? AND visible_at > ?
           UNION ALL SELECT MIN(lock_expires_at) FROM wf_instances WHERE app_id = ? AND lock_expires_at > ?
           UNION ALL SELECT MIN(lock_expires_at) FROM wf_activities WHERE app_id = ? AND lock_expires_at > ?
           UNION ALL SELECT MIN(scheduled_start_at) FROM wf_instances WHERE app_id = ? AND status = 'PENDING' AND scheduled_start_at > ?)`,
      )
      .get(this.appId, t, this.appId, t, this.appId, t, this.appId, t) as { at: number | null };
    return row.at === null ? undefined : new Date(row.at);
  }

  private facts(instanceId: string): InstanceFacts | undefined {
    return toFacts(this.q(factsQuery('wf_instances', 'wf_history', '?', '?')).get(this.appId, instanceId) as FactsRow | undefined);
  }

  /**
   * Applies a planned transition in the current transaction, if the instance still has the status and
   * execution it was planned from (it has: the facts were read in this transaction); returns the
   * unfinished children when it finishes the instance, undefined when the guard failed.
   */
  private apply(x: Transition): string[] | undefined {
    const id = x.instanceId;
    const finish = x.finish ? 1 : 0;
    const updated = this.q(
        `UPDATE wf_instances SET status = ?, output = CASE WHEN ? THEN ? ELSE output END, updated_at = ?,
           lock_owner = CASE WHEN ? THEN NULL ELSE lock_owner END, lock_expires_at = CASE WHEN ? THEN NULL ELSE lock_expires_at END
         WHERE app_id = ? AND instance_id = ? AND status = ? AND execution_id = ?`,
      )
      .run(x.status, x.output !== undefined ? 1 : 0, x.output ?? null, x.at.getTime(), finish, finish, this.appId, id, x.guard.status, x.guard.executionId);
    if (updated.changes === 0) return undefined;
    if (x.finish) {
      this.q('DELETE FROM wf_activities WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
      this.q('DELETE FROM wf_inbox WHERE app_id = ? AND instance_id = ?').run(this.appId, id);
    }
    if (x.appendHistory.length > 0) {
      const last = this.q('SELECT MAX(seq) AS s FROM wf_history WHERE app_id = ? AND instance_id = ?').get(this.appId, id) as { s: number | null };
      const add = this.q('INSERT INTO wf_history (app_id, instance_id, seq, event) VALUES (?, ?, ?, ?)');
      let seq = last.s ?? 0;
      for (const event of x.appendHistory) add.run(this.appId, id, ++seq, JSON.stringify(event));
    }
    const m = x.parentMessage;
    const parent = m ? this.row(m.instanceId) : undefined;
    if (m && parent && !isTerminal(parent.status as WorkflowStatus)) this.insertInbox(m);
    if (!x.finish) return [];
    const children = this.q(
        `SELECT instance_id FROM wf_instances WHERE app_id = ? AND parent_instance_id = ? AND status NOT IN ('COMPLETED', 'FAILED', 'TERMINATED')`,
      )
      .all(this.appId, id) as { instance_id: string }[];
    return children.map((c) => c.instance_id);
  }

  async terminate(instanceId: string, output: string | null, now: Date): Promise<TerminateResult> {
    return this.tx(() => {
      for (;;) {
        const plan = planTerminate(instanceId, this.facts(instanceId), output, now);
        if (plan.kind === 'unknown') return { found: false };
        if (plan.kind === 'finished') return { found: true, alreadyFinished: true, children: [] };
        const children = this.apply(plan.transition);
        if (children) return { found: true, alreadyFinished: false, children };
      }
    });
  }

  async setSuspended(instanceId: string, suspended: boolean, now: Date): Promise<WorkflowStatus | undefined> {
    return this.tx(() => {
      for (;;) {
        const plan = planSuspend(instanceId, this.facts(instanceId), suspended, now);
        if (!plan.transition || this.apply(plan.transition)) return plan.previous;
      }
    });
  }

  async purge(instanceId: string): Promise<number> {
    return this.tx(() => this.purgeTree(instanceId));
  }

  private purgeTree(instanceId: string): number {
    const row = this.row(instanceId);
    if (!row || !purgeable(row.status as WorkflowStatus)) return 0;
    const children = this.q('SELECT instance_id FROM wf_instances WHERE app_id = ? AND parent_instance_id = ?').all(this.appId, instanceId) as {
      instance_id: string;
    }[];
    let count = 0;
    for (const child of children) count += this.purgeTree(child.instance_id);
    this.deleteInstanceRows(instanceId);
    return count + 1;
  }

  async purgeWhere(filter: InstanceFilter, limit?: number): Promise<number> {
    const statuses = purgeStatuses(filter);
    if (statuses.length === 0) return 0;
    const where = filterClause({ ...filter, statuses }, () => '?', 0);
    const batch = purgeBatch(limit);
    const bounded = batch === undefined ? '' : ` LIMIT ${batch}`;
    return this.tx(() => {
      const rows = this.q(`SELECT instance_id FROM wf_instances WHERE app_id = ?${where.sql}${bounded}`).all(this.appId, ...where.args) as {
        instance_id: string;
      }[];
      let count = 0;
      for (const r of rows) count += this.purgeTree(r.instance_id);
      return count;
    });
  }

  async close(): Promise<void> {
    // Writes asked for before closing are committed first.
    if (this.queue.length > 0 && this.db.open) this.flush();
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }
}
