/**
 * Workflow definitions with cache-aside reads: `get` looks in the cache, falls back to Postgres and
 * fills the cache with a TTL; every change deletes the cached entry after the database commit, so
 * the next read sees the change. A cache failure never fails a request: it is logged and the
 * database answers.
 */
import type { Logger } from 'pino';
import { NotFoundError } from '../errors.js';
import type { Cache } from './cache.js';
import type { TaskInput, Workflow, WorkflowInput, WorkflowPatch } from './model.js';
import type { DefinitionRepository } from './repository.js';

/** Where a definition read was answered from. */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** The definitions API used by the REST routes and by ExecuteWorkflow. */
export class DefinitionService {
  constructor(
    private readonly repo: DefinitionRepository,
    private readonly cache: Cache,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** The cache key of a workflow definition. */
  static key(workflowId: string): string {
    return `workflow:${workflowId}`;
  }

  list(limit: number, offset: number) {
    return this.repo.list(limit, offset);
  }

  /** One workflow with its tasks, and whether the cache answered. Throws NotFoundError. */
  async get(id: string): Promise<{ workflow: Workflow; cache: CacheOutcome }> {
    const key = DefinitionService.key(id);
    let cacheUsable = true;
    try {
      const cached = await this.cache.get(key);
      if (cached !== undefined) return { workflow: JSON.parse(cached) as Workflow, cache: 'hit' };
    } catch (err) {
      cacheUsable = false;
      this.logger.warn({ err: (err as Error).message, key }, 'definition cache read failed; reading the database');
    }
    const workflow = await this.repo.find(id);
    if (!workflow) throw new NotFoundError(`workflow ${id} not found`);
    if (cacheUsable) {
      await this.cache.set(key, JSON.stringify(workflow), this.ttlSeconds).catch((err: Error) => this.logger.warn({ err: err.message, key }, 'definition cache write failed'));
    }
    return { workflow, cache: cacheUsable ? 'miss' : 'bypass' };
  }

  async create(input: WorkflowInput): Promise<Workflow> {
    const id = await this.repo.create(input);
    return (await this.get(id)).workflow;
  }

  async update(id: string, patch: WorkflowPatch): Promise<Workflow> {
    await this.changed(id, () => this.repo.update(id, patch));
    return (await this.get(id)).workflow;
  }

  async delete(id: string): Promise<void> {
    await this.changed(id, () => this.repo.delete(id));
  }

  async addTask(workflowId: string, input: TaskInput) {
    const taskId = await this.changed(workflowId, () => this.repo.addTask(workflowId, input));
    return this.task(workflowId, taskId);
  }

  async replaceTask(workflowId: string, taskId: string, input: TaskInput) {
    await this.changed(workflowId, () => this.repo.replaceTask(workflowId, taskId, input));
    return this.task(workflowId, taskId);
  }

  async deleteTask(workflowId: string, taskId: string): Promise<void> {
    await this.changed(workflowId, () => this.repo.deleteTask(workflowId, taskId));
  }

  /** One task of a workflow (through the cached definition). */
  async task(workflowId: string, taskId: string) {
    const { workflow } = await this.get(workflowId);
    const task = workflow.tasks.find((t) => t.id === taskId);
    if (!task) throw new NotFoundError(`task ${taskId} not found in workflow ${workflowId}`);
    return task;
  }

  /**
   * Runs a change, then invalidates the cached definition. Invalidation also runs when the change
   * failed (it may have committed before failing) — deleting a key is always safe.
   */
  private async changed<T>(workflowId: string, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      await this.cache.delete(DefinitionService.key(workflowId)).catch((err: Error) => this.logger.error({ err: err.message, workflowId }, 'definition cache invalidation failed'));
    }
  }
}
