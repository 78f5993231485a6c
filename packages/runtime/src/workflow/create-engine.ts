/**
 * Chooses the workflow backend the way Dapr users expect: a `state.postgresql` component marked
 * `actorStateStore: "true"` puts workflows on that Postgres; otherwise they live in the embedded
 * SQLite file `<dataDir>/workflows.sqlite`. Engine settings come from the injected environment:
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
import { parseDurationMs } from '../util/duration.js';
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
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** Orchestration, activity and timer spans; absent when tracing is off. */
  tracer?: Tracer | undefined;
  /** Metric events (`dapr_runtime_workflow_*`). */
  observer?: WorkflowObserver;
}

function positiveInt(env: CreateEngineInput['env'], name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** A Go-style duration setting (`90s`, `1m30s`, `500ms`), undefined when unset. */
function goDuration(env: CreateEngineInput['env'], name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0) throw new Error(`${name} must be a positive duration such as 30s or 5m, got "${raw}"`);
  return ms;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `500ms`, `90s`, `30m`, `24h`, `7d` (a bare number is milliseconds). */
export function parseDuration(name: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new Error(`${name} must be a duration such as 30m, 24h or 7d, got "${raw}"`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1));
}

/** The Postgres connection string of the actor state store, if it is a `state.postgresql` component. */
export function actorPostgresConnection(components: ComponentManager): string | undefined {
  const store = components.ofKind('state').find((c) => (readProperty(c.properties, 'actorStateStore') ?? '').toLowerCase() === 'true');
  if (!store || !store.type.startsWith('state.postgres')) return undefined;
  return readProperty(store.properties, 'connectionString');
}

/** Opens the backend and the engine over it. */
export async function createWorkflowEngine(input: CreateEngineInput): Promise<WorkflowEngine> {
  const { env, logger } = input;
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
  const leaseMs = positiveInt(env, 'WEFT_WORKFLOW_LEASE_MS');
  const maxO = positiveInt(env, 'WEFT_WORKFLOW_MAX_CONCURRENT_ORCHESTRATIONS');
  const maxA = positiveInt(env, 'WEFT_WORKFLOW_MAX_CONCURRENT_ACTIVITIES');
  const maxWorkItemBytes = positiveInt(env, 'WEFT_WORKFLOW_MAX_WORK_ITEM_BYTES');
  const debugPoints = env['WEFT_DEBUG_POINTS'];
  const retention = env['WEFT_WORKFLOW_RETENTION'];
  const retentionMs = retention ? parseDuration('WEFT_WORKFLOW_RETENTION', retention) : undefined;
  const redeliverAfterMs = goDuration(env, 'WEFT_WORKFLOW_REDELIVER_AFTER');
  const stuckAfterMs = goDuration(env, 'WEFT_WORKFLOW_STUCK_AFTER');
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
