/** Reads and writes workflow definitions and their tasks in Postgres, with Kysely. */
import type { Kysely, Selectable } from 'kysely';
import type { Database, TasksTable, WorkflowsTable } from '../db/schema.js';
import { ConflictError, NotFoundError, isUniqueViolation } from '../errors.js';
import type { Task, TaskInput, Workflow, WorkflowInput, WorkflowPatch } from './model.js';

/** Data access for definitions. Every method that changes data returns the workflow id it touched. */
export class DefinitionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The workflows, newest first, without their tasks. */
  async list(limit: number, offset: number): Promise<{ items: Omit<Workflow, 'tasks'>[]; total: number }> {
    const rows = await this.db.selectFrom('workflows').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
    const { count } = await this.db.selectFrom('workflows').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    return { items: rows.map(toWorkflow), total: Number(count) };
  }

  /** One workflow with its tasks in execution order, or undefined. */
  async find(id: string): Promise<Workflow | undefined> {
    const row = await this.db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const tasks = await this.db.selectFrom('tasks').selectAll().where('workflow_id', '=', id).orderBy('sequence').orderBy('created_at').orderBy('name').execute();
    return { ...toWorkflow(row), tasks: tasks.map(toTask) };
  }

  /** Creates a workflow and its tasks in one transaction. */
  async create(input: WorkflowInput): Promise<string> {
    return this.unique(`a workflow named "${input.name}" already exists`, () =>
      this.db.transaction().execute(async (tx) => {
        const { id } = await tx.insertInto('workflows').values({ name: input.name, description: input.description ?? null }).returning('id').executeTakeFirstOrThrow();
        if (input.tasks.length > 0) await tx.insertInto('tasks').values(input.tasks.map((t) => taskValues(id, t))).execute();
        return id;
      }),
    );
  }

  /** Updates name and/or description. */
  async update(id: string, patch: WorkflowPatch): Promise<void> {
    const result = await this.unique(`a workflow named "${patch.name ?? ''}" already exists`, () =>
      this.db
        .updateTable('workflows')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    if (result.numUpdatedRows === 0n) throw new NotFoundError(`workflow ${id} not found`);
  }

  /** Deletes a workflow and (by cascade) its tasks. Execution history is kept. */
  async delete(id: string): Promise<void> {
    const result = await this.db.deleteFrom('workflows').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw new NotFoundError(`workflow ${id} not found`);
  }

  /** Adds a task to a workflow; returns the task's id. */
  async addTask(workflowId: string, input: TaskInput): Promise<string> {
    return this.unique(`workflow ${workflowId} already has a task named "${input.name}"`, () =>
      this.db.transaction().execute(async (tx) => {
        await this.touch(tx, workflowId);
        const { id } = await tx.insertInto('tasks').values(taskValues(workflowId, input)).returning('id').executeTakeFirstOrThrow();
        return id;
      }),
    );
  }

  /** Replaces a task's definition. */
  async replaceTask(workflowId: string, taskId: string, input: TaskInput): Promise<void> {
    await this.unique(`workflow ${workflowId} already has a task named "${input.name}"`, () =>
      this.db.transaction().execute(async (tx) => {
        await this.touch(tx, workflowId);
        const { workflow_id: _ignored, ...values } = taskValues(workflowId, input);
        const result = await tx.updateTable('tasks').set({ ...values, updated_at: new Date() }).where('id', '=', taskId).where('workflow_id', '=', workflowId).executeTakeFirst();
        if (result.numUpdatedRows === 0n) throw new NotFoundError(`task ${taskId} not found in workflow ${workflowId}`);
      }),
    );
  }

  /** Removes a task. */
  async deleteTask(workflowId: string, taskId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.touch(tx, workflowId);
      const result = await tx.deleteFrom('tasks').where('id', '=', taskId).where('workflow_id', '=', workflowId).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`task ${taskId} not found in workflow ${workflowId}`);
    });
  }

  /** Bumps the workflow's `updated_at` (a task change is a change of the definition) or throws 404. */
  private async touch(tx: Kysely<Database>, workflowId: string): Promise<void> {
    const result = await tx.updateTable('workflows').set({ updated_at: new Date() }).where('id', '=', workflowId).executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new NotFoundError(`workflow ${workflowId} not found`);
  }

  private async unique<T>(message: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(message);
      throw err;
    }
  }
}

function taskValues(workflowId: string, t: TaskInput) {
  return { workflow_id: workflowId, name: t.name, sequence: t.sequence, execution_type: t.execution_type, kind: t.kind, config: JSON.stringify(t.config) };
}

function toWorkflow(row: Selectable<WorkflowsTable>): Omit<Workflow, 'tasks'> {
  return { id: row.id, name: row.name, description: row.description, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

function toTask(row: Selectable<TasksTable>): Task {
  return {
    id: row.id,
    workflow_id: row.workflow_id,
    name: row.name,
    sequence: row.sequence,
    execution_type: row.execution_type,
    kind: row.kind,
    config: row.config,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
