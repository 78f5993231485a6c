/**
 * Chooses the workflow backend the way Dapr users expect: a `state.postgresql` component marked
 * `actorStateStore: "true"` puts workflows on that Postgres; otherwise they live in the embedded
 * SQLite file `<dataDir>/workflows.sqlite`. Engine settings come resolved and validated
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
import path from 'node:path';
import type { ComponentManager } from '../components/manager.js';
import { readProperty } from '../components/metadata.js';
import type { EngineSettings } from '../config/engine-settings.js';
import type { Logger } from '../logging/logger.js';
import type { WorkflowBackend } from './backend.js';
import { WorkflowEngine } from './engine.js';
import type { Tracer } from '../observability/tracing.js';
import type { WorkflowObserver } from './observer.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';

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

/** The Postgres connection string of the actor state store, if it is a `state.postgresql` component. */
export function actorPostgresConnection(components: ComponentManager): string | undefined {
  const store = components.ofKind('state').find((c) => (readProperty(c.properties, 'actorStateStore') ?? '').toLowerCase() === 'true');
  if (!store || !store.type.startsWith('state.postgres')) return undefined;
  return readProperty(store.properties, 'connectionString');
}

/** Opens the backend and the engine over it. */
export async function createWorkflowEngine(input: CreateEngineInput): Promise<WorkflowEngine> {
  const { settings, logger } = input;
  let backend: WorkflowBackend;
  const pgUrl = actorPostgresConnection(input.components);
  if (pgUrl) {
    const { PostgresWorkflowBackend } = await import('./postgres-backend.js');
    backend = await PostgresWorkflowBackend.open(pgUrl, input.appId);
    logger.info('workflows: PostgreSQL backend (the actor state store)');
  } else {
    const file = path.join(input.dataDir, 'workflows.sqlite');
    backend = new SqliteWorkflowBackend(file, input.appId, 5000, input.logger);
    logger.info(`workflows: embedded SQLite backend in ${file}`);
  }
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
