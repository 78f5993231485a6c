/** Row types of the tables, as Kysely sees them (kept in step with `migrations/`). */
import type { ColumnType, Generated } from 'kysely';

/** The statuses of a workflow execution and of each of its tasks (the seed's four). */
export type RunStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
/** `sync` tasks run one after another; neighbouring `async` tasks of one sequence run together. */
export type ExecutionType = 'sync' | 'async';
/** What a task does. */
export type TaskKind = 'http' | 'delay' | 'transform';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface WorkflowsTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface TasksTable {
  id: Generated<string>;
  workflow_id: string;
  name: string;
  sequence: number;
  execution_type: ExecutionType;
  kind: TaskKind;
  /** Written as JSON text, read back parsed. */
  config: ColumnType<Record<string, unknown>, string, string>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface ExecutionsTable {
  id: string;
  workflow_id: string;
  workflow_name: string;
  definition: ColumnType<unknown, string, string>;
  request_id: string | null;
  status: RunStatus;
  error: string | null;
  created_at: Generated<Date>;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export interface TaskRunsTable {
  execution_id: string;
  task_id: string;
  name: string;
  sequence: number;
  execution_type: ExecutionType;
  kind: TaskKind;
  status: RunStatus;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  error: string | null;
  attempts: Generated<number>;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
}

export interface ExecutionEventsTable {
  id: ColumnType<string | number | bigint, never, never>;
  execution_id: string;
  task_id: string | null;
  task_name: string | null;
  status: RunStatus;
  message: string | null;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  at: Generated<Date>;
}

/** The whole database. */
export interface Database {
  workflows: WorkflowsTable;
  tasks: TasksTable;
  executions: ExecutionsTable;
  task_runs: TaskRunsTable;
  execution_events: ExecutionEventsTable;
}
