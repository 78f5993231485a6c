/**
 * Opens the workflow backend where the declared actor state store says (`workflow-store.ts`: Postgres,
 * Redis, SQLite or in-memory; the embedded SQLite file `<dataDir>/workflows.sqlite` when none is
 * declared; a start-up error for a store that cannot host workflows), logs where workflows live, and
 * starts the engine over it. Engine settings come resolved and validated
 * (`config/engine-settings.ts`: flags, environment, Configuration); by their environment names:
 * `WEFT_WORKFLOW_LEASE_MS`, `WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS`, `WEFT_WORKFLOW_MAX_CONCURRENT_ACTIVITIES`,
 * `WEFT_WORKFLOW_RETENTION` (purge finished instances older than this duration, e.g. `7d`),
 * `WEFT_WORKFLOW_REDELIVER_AFTER` (a Go-style duration, default `60s`: a work item a live worker
 * stream leaves unanswered this long is released and dispatched again, since the JS worker drops items
 * beyond 10 running + 100 queued without a word; an activity that legitimately runs longer is
 * therefore delivered again, so set it above the longest activity), `WEFT_WORKFLOW_STUCK_AFTER` (a
 * Go-style duration, default `5m`: an instance with work waiting — a visible event or a queued activity — and no committed
 * progress for this long is flagged stuck in the list API, the metadata API and the
 * `weft_workflow_stuck_instances` gauge), `WEFT_WORKFLOW_MAX_WORK_ITEM_BYTES` (default 128 MiB, what
 * `@dapr/dapr` workers receive: a larger work item fails its instance or activity instead of ending the
 * worker's stream) and `WEFT_DEBUG_POINTS` (crash tests).
 */
import type { ComponentManager } from '../components/manager.js';
import type { EngineSettings } from '../config/engine-settings.js';
import type { Logger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import { WorkflowEngine } from './engine.js';
import type { Tracer } from '../observability/tracing.js';
import type { WorkflowObserver } from './observer.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import { chooseWorkflowStore } from './workflow-store.js';
import type { WorkflowStore } from './workflow-store.js';

export { actorPostgresConnection } from './workflow-store.js';

/** What the engine needs from the sidecar. */
export interface CreateEngineInput {
  appId: string;
  dataDir: string;
  components: ComponentManager;
  /** Leases, limits, retention, redelivery and stuck detection (the validated engine settings). */
  settings: EngineSettings;
  logger: Logger;
  /** Orchestration, activity and timer spans; absent when tracing is off. */
  tracer?: Tracer | undefined;
  /** Metric events (`dapr_runtime_workflow_*`). */
  observer?: WorkflowObserver;
}

/** Opens the backend of the chosen store. */
async function openBackend(store: WorkflowStore, input: CreateEngineInput): Promise<WorkflowBackend> {
  switch (store.kind) {
    case 'postgres': {
      const { openPostgresWorkflowBackend } = await import('./open-postgres.js');
      return openPostgresWorkflowBackend(store.connectionString, input.appId);
    }
    case 'redis': {
      const { RedisWorkflowBackend } = await import('./redis-backend.js');
      return RedisWorkflowBackend.open({ redis: store.options, appId: input.appId, logger: input.logger });
    }
    case 'memory': {
      const { MemoryWorkflowBackend } = await import('./memory-backend.js');
      return new MemoryWorkflowBackend();
    }
    case 'sqlite':
      return new SqliteWorkflowBackend(store.file, input.appId, Math.max(5000, store.busyTimeoutMs ?? 0), store.file === ':memory:' ? undefined : input.logger);
  }
}

/** Opens the backend and the engine over it. */
export async function createWorkflowEngine(input: CreateEngineInput): Promise<WorkflowEngine> {
  const { settings, logger } = input;
  const store = chooseWorkflowStore(input.components, input.dataDir);
  const backend = await openBackend(store, input);
  logger.info(`workflows: ${store.describe}`);
  const {
    workflowLeaseMs: leaseMs,
    workflowMaxConcurrentOrchestrations: maxO,
    workflowMaxConcurrentActivities: maxA,
    workflowMaxWorkItemBytes: maxWorkItemBytes,
    debugPoints,
    workflowRetentionMs: retentionMs,
    workflowRedeliverAfterMs: redeliverAfterMs,
    workflowStuckAfterMs: stuckAfterMs,
  } = settings;
  return new WorkflowEngine({
    backend,
    logger,
    ...(input.tracer ? { tracer: input.tracer } : {}),
    ...(leaseMs ? { leaseMs } : {}),
    ...(maxO ? { maxConcurrentOrchestrations: maxO } : {}),
    ...(maxA ? { maxConcurrentActivities: maxA } : {}),
    ...(maxWorkItemBytes ? { maxWorkItemBytes } : {}),
    ...(debugPoints ? { debugPoints } : {}),
    ...(redeliverAfterMs !== undefined ? { redeliverAfterMs } : {}),
    ...(stuckAfterMs !== undefined ? { stuckAfterMs } : {}),
    ...(retentionMs !== undefined ? { retentionMs } : {}),
    ...(input.observer ? { observer: input.observer } : {}),
  });
}
