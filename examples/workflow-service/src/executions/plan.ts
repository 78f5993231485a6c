/**
 * Turns a workflow's tasks into an execution plan: a list of steps run one after another, where each
 * step is a set of tasks run together.
 *
 * The rule: tasks run in ascending `sequence`; tasks of different sequence numbers never overlap.
 * Within one sequence number (in definition order), each `sync` task is a step of its own, and
 * neighbouring `async` tasks form one step whose tasks run in parallel. So `[a sync, b async,
 * c async, d sync]` at sequence 1 runs a, then b and c together, then d.
 */
import { parseTaskConfig } from '../definitions/model.js';
import type { Task, TaskInput, Workflow } from '../definitions/model.js';
import { PreconditionError } from '../errors.js';

/** A task as the engine runs it: what the definition said when the execution started. */
export interface PlannedTask {
  id: string;
  name: string;
  sequence: number;
  execution_type: 'sync' | 'async';
  kind: TaskInput['kind'];
  config: Record<string, unknown>;
}

/** Steps in order; the tasks of a step run in parallel. */
export type ExecutionPlan = PlannedTask[][];

/** Builds the plan, checking every task's configuration and `input_from` references. */
export function planExecution(workflow: Workflow): ExecutionPlan {
  if (workflow.tasks.length === 0) throw new PreconditionError(`workflow ${workflow.id} has no tasks`);
  const ordered = [...workflow.tasks].sort((a, b) => a.sequence - b.sequence || a.created_at.localeCompare(b.created_at) || a.name.localeCompare(b.name));
  const steps: ExecutionPlan = [];
  let current: PlannedTask[] = [];
  let currentSequence = Number.NaN;
  const flush = () => {
    if (current.length > 0) steps.push(current);
    current = [];
  };
  for (const task of ordered) {
    const planned = plannedTask(task, workflow.id);
    if (task.sequence !== currentSequence) {
      flush();
      currentSequence = task.sequence;
    }
    if (task.execution_type === 'sync') {
      flush();
      steps.push([planned]);
    } else {
      current.push(planned);
    }
  }
  flush();
  // An `input_from` must name a task of an earlier step: one that has finished when this one starts.
  const seen = new Set<string>();
  for (const step of steps) {
    for (const t of step) {
      const from = t.config['input_from'];
      if (typeof from === 'string' && !seen.has(from)) {
        throw new PreconditionError(`task "${t.name}" takes its input from "${from}", which is not a task that finishes before it`);
      }
    }
    for (const t of step) seen.add(t.name);
  }
  return steps;
}

function plannedTask(task: Task, workflowId: string): PlannedTask {
  let config: Record<string, unknown>;
  try {
    config = parseTaskConfig(task.kind, task.config) as Record<string, unknown>;
  } catch (err) {
    throw new PreconditionError(`task "${task.name}" of workflow ${workflowId} has an invalid configuration: ${(err as Error).message}`);
  }
  return { id: task.id, name: task.name, sequence: task.sequence, execution_type: task.execution_type, kind: task.kind, config };
}
