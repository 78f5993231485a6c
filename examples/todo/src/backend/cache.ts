/**
 * A read-through cache of single tasks in the Dapr state store (`task:<id>`, the seed's keys),
 * written with a TTL and deleted on every change to the task.
 */
import type { TaskData } from '../shared/events.js';
import type { StateClient } from '../shared/state.js';

/** Task cache with a TTL. */
export class TaskCache {
  constructor(
    private readonly state: StateClient,
    private readonly ttlSeconds: number,
  ) {}

  static key(taskId: string): string {
    return `task:${taskId}`;
  }

  async get(taskId: string): Promise<TaskData | undefined> {
    return (await this.state.get<TaskData>(TaskCache.key(taskId)))?.value;
  }

  async put(task: TaskData): Promise<void> {
    await this.state.save(TaskCache.key(task.id), task, { ttlSeconds: this.ttlSeconds });
  }

  async invalidate(taskId: string): Promise<void> {
    await this.state.delete(TaskCache.key(taskId));
  }
}
