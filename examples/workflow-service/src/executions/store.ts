/**
 * Execution history in Postgres: one row per execution, one per task run, and an append-only log of
 * status changes that ExecuteWorkflow streams. Recording is idempotent, because workflow activities
 * are at-least-once: a retried activity records the same transition again and nothing changes.
 */
import { EventEmitter } from 'node:events';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, ExecutionEventsTable, RunStatus } from '../db/schema.js';
import type { ExecutionPlan } from './plan.js';

/** A status change of the execution (`task_id` null) or of one of its tasks. */
export interface ExecutionEvent {
  id: number;
  execution_id: string;
  task_id: string | null;
  task_name: string | null;
  status: RunStatus;
  message: string | null;
  result: unknown;
  at: string;
}

/** One task's outcome within an execution. */
export interface TaskRun {
  task_id: string;
  name: string;
  sequence: number;
  execution_type: 'sync' | 'async';
  kind: 'http' | 'delay' | 'transform';
  status: RunStatus;
  result: unknown;
  error: string | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
}

/** An execution with its task runs. */
export interface Execution {
  id: string;
  workflow_id: string;
  workflow_name: string;
  status: RunStatus;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  tasks: TaskRun[];
}

/** True once an execution or task can no longer change. */
export function isFinal(status: RunStatus): boolean {
  return status === 'COMPLETED' || status === 'FAILED';
}

/** Reads and records executions. Emits `events:<executionId>` after every recorded change. */
export class ExecutionStore {
  /** In-process wake-ups for streams; streams also poll, so other replicas' writes are seen too. */
  readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records a new execution as PENDING with all its tasks PENDING. With a `requestId` seen before,
   * nothing is created and the earlier execution's id is returned (`created: false`).
   */
  async create(input: { id: string; workflowId: string; workflowName: string; plan: ExecutionPlan; requestId?: string | undefined }): Promise<{ id: string; created: boolean }> {
    if (input.requestId) {
      const existing = await this.findByRequestId(input.requestId);
      if (existing) return { id: existing, created: false };
    }
    const tasks = input.plan.flat();
    try {
      await this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('executions')
          .values({ id: input.id, workflow_id: input.workflowId, workflow_name: input.workflowName, definition: JSON.stringify(input.plan), request_id: input.requestId ?? null, status: 'PENDING' })
          .execute();
        await tx
          .insertInto('task_runs')
          .values(tasks.map((t) => ({ execution_id: input.id, task_id: t.id, name: t.name, sequence: t.sequence, execution_type: t.execution_type, kind: t.kind, status: 'PENDING' as const })))
          .execute();
        await tx
          .insertInto('execution_events')
          .values([
            { execution_id: input.id, task_id: null, task_name: null, status: 'PENDING', message: `workflow ${input.workflowName} accepted` },
            ...tasks.map((t) => ({ execution_id: input.id, task_id: t.id, task_name: t.name, status: 'PENDING' as const, message: null })),
          ])
          .execute();
      });
    } catch (err) {
      // Two requests with one request id raced: the loser answers with the winner's execution.
      const winner = input.requestId ? await this.findByRequestId(input.requestId) : undefined;
      if (winner) return { id: winner, created: false };
      throw err;
    }
    this.changes.emit(`events:${input.id}`);
    return { id: input.id, created: true };
  }

  private async findByRequestId(requestId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('executions').select('id').where('request_id', '=', requestId).executeTakeFirst())?.id;
  }

  /** Moves the execution to `status` (never out of a final status) and logs the change. */
  async markExecution(executionId: string, status: RunStatus, error?: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await lockExecution(tx, executionId);
      const now = new Date();
      await tx
        .updateTable('executions')
        .set({
          status,
          ...(status === 'RUNNING' ? { started_at: now } : {}),
          ...(isFinal(status) ? { finished_at: now, error: error ?? null } : {}),
        })
        .where('id', '=', executionId)
        .where('status', 'not in', ['COMPLETED', 'FAILED'])
        .execute();
      await tx
        .insertInto('execution_events')
        .values({ execution_id: executionId, task_id: null, task_name: null, status, message: error ?? null })
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
    this.changes.emit(`events:${executionId}`);
  }

  /** Moves one task run to `status` with its result or error, and logs the change. */
  async markTask(executionId: string, taskId: string, status: RunStatus, outcome: { result?: unknown; error?: string } = {}): Promise<void> {
    const resultJson = outcome.result === undefined ? null : JSON.stringify(outcome.result);
    await this.db.transaction().execute(async (tx) => {
      await lockExecution(tx, executionId);
      const now = new Date();
      const run = await tx.selectFrom('task_runs').select('name').where('execution_id', '=', executionId).where('task_id', '=', taskId).executeTakeFirst();
      if (!run) throw new Error(`execution ${executionId} has no task ${taskId}`);
      let update = tx
        .updateTable('task_runs')
        .set((eb) => ({
          status,
          ...(status === 'RUNNING' ? { started_at: now, attempts: eb('attempts', '+', 1), error: null } : {}),
          ...(isFinal(status) ? { finished_at: now, result: resultJson, error: outcome.error ?? null } : {}),
        }))
        .where('execution_id', '=', executionId)
        .where('task_id', '=', taskId);
      // A redelivered activity may start again after its first run finished: keep the final status
      // (its new outcome, recorded next, replaces the old one).
      if (status === 'RUNNING') update = update.where('status', 'not in', ['COMPLETED', 'FAILED']);
      await update.execute();
      await tx
        .insertInto('execution_events')
        .values({ execution_id: executionId, task_id: taskId, task_name: run.name, status, message: outcome.error ?? null, result: resultJson })
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
    this.changes.emit(`events:${executionId}`);
  }

  /** The plan an execution was started with. */
  async plan(executionId: string): Promise<ExecutionPlan | undefined> {
    const row = await this.db.selectFrom('executions').select('definition').where('id', '=', executionId).executeTakeFirst();
    return row ? (row.definition as ExecutionPlan) : undefined;
  }

  /** The execution's status changes with an id above `afterId`, oldest first. */
  async events(executionId: string, afterId = 0, limit = 500): Promise<ExecutionEvent[]> {
    const rows = await this.db.selectFrom('execution_events').selectAll().where('execution_id', '=', executionId).where('id', '>', String(afterId)).orderBy('id').limit(limit).execute();
    return rows.map(toEvent);
  }

  /** One execution with its task runs (in plan order), or undefined. */
  async get(executionId: string): Promise<Execution | undefined> {
    const row = await this.db.selectFrom('executions').selectAll().where('id', '=', executionId).executeTakeFirst();
    if (!row) return undefined;
    const runs = await this.db.selectFrom('task_runs').selectAll().where('execution_id', '=', executionId).orderBy('sequence').execute();
    const plan = (row.definition as ExecutionPlan).flat().map((t) => t.id);
    runs.sort((a, b) => plan.indexOf(a.task_id) - plan.indexOf(b.task_id));
    return {
      id: row.id,
      workflow_id: row.workflow_id,
      workflow_name: row.workflow_name,
      status: row.status,
      error: row.error,
      created_at: row.created_at.toISOString(),
      started_at: iso(row.started_at),
      finished_at: iso(row.finished_at),
      tasks: runs.map((r) => ({
        task_id: r.task_id,
        name: r.name,
        sequence: r.sequence,
        execution_type: r.execution_type,
        kind: r.kind,
        status: r.status,
        result: r.result ?? null,
        error: r.error,
        attempts: r.attempts,
        started_at: iso(r.started_at),
        finished_at: iso(r.finished_at),
      })),
    };
  }

  /** A workflow's executions, newest first (without task runs). */
  async listForWorkflow(workflowId: string, limit: number, offset: number): Promise<Omit<Execution, 'tasks'>[]> {
    const rows = await this.db.selectFrom('executions').selectAll().where('workflow_id', '=', workflowId).orderBy('created_at', 'desc').limit(limit).offset(offset).execute();
    return rows.map((r) => ({
      id: r.id,
      workflow_id: r.workflow_id,
      workflow_name: r.workflow_name,
      status: r.status,
      error: r.error,
      created_at: r.created_at.toISOString(),
      started_at: iso(r.started_at),
      finished_at: iso(r.finished_at),
    }));
  }
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function toEvent(row: Selectable<ExecutionEventsTable>): ExecutionEvent {
  return {
    id: Number(row.id),
    execution_id: row.execution_id,
    task_id: row.task_id,
    task_name: row.task_name,
    status: row.status,
    message: row.message,
    result: row.result ?? null,
    at: row.at.toISOString(),
  };
}

/**
 * Locks an execution's row for the rest of the transaction. Every writer of the execution log takes
 * it before inserting: the log's ids are drawn after the lock, so one execution's events commit in id
 * order, and a reader following the log by id (`events(after)`) never skips an event whose
 * transaction committed after one with a higher id.
 */
async function lockExecution(tx: Transaction<Database>, executionId: string): Promise<void> {
  await tx.selectFrom('executions').select('id').where('id', '=', executionId).forUpdate().executeTakeFirst();
}
