/**
 * The Weft runtime: a Dapr-compatible sidecar. Most users start it with the `weft` CLI; tests and
 * embedders use {@link Sidecar.start}.
 */
export { Sidecar } from './sidecar/sidecar.js';
export type { SidecarStartOptions } from './sidecar/sidecar.js';
export { resolveSidecarOptions } from './sidecar/options.js';
export type { SidecarOptions, AppProtocol } from './sidecar/options.js';
export { TlsConfigError } from './security/tls-material.js';
export type { MtlsSources, PemSource } from './security/tls-material.js';
export { tokenMatches } from './security/api-token.js';
export { createLogger, silentLogger } from './logging/logger.js';
export type { Logger, LogLevel } from './logging/logger.js';
export { ComponentInitError, ResourceError, loadResources } from './resources/loader.js';
export { builtinRegistry } from './components/builtin.js';
export { ComponentRegistry, UnknownComponentError } from './components/registry.js';
export { MetadataError } from './components/metadata.js';
export { ApiError } from './errors/index.js';
export { RUNTIME_VERSION } from './version.js';
export { DurationError, parseDuration, parseDurationMs } from './util/duration.js';
export type { ParseDurationOptions } from './util/duration.js';
export { WorkflowEngine } from './workflow/engine.js';
export { SqliteWorkflowBackend } from './workflow/sqlite-backend.js';
export type { PostgresWorkflowBackend } from './workflow/postgres-backend.js';
export { openPostgresWorkflowBackend } from './workflow/open-postgres.js';
export { historyEventJson, instanceJson } from './workflow/history-json.js';
export { WORKFLOW_STATUSES } from './workflow/types.js';
export type { WorkflowStatus, InstanceRecord } from './workflow/types.js';
export type { WorkflowBackend, InstanceFilter } from './workflow/backend.js';
export type { RerunRequest } from './workflow/rerun.js';
export { loadConfiguration, defaultConfiguration, parseConfiguration } from './config/configuration.js';
export { ENGINE_SETTINGS, EngineSettingError, resolveEngineSettings } from './config/engine-settings.js';
export type { EngineSettings, EngineSettingSpec, EngineSettingSources } from './config/engine-settings.js';
export type { WeftConfiguration } from './config/configuration.js';
export { Resiliency } from './resiliency/resiliency.js';
export type { PolicyTarget } from './resiliency/resiliency.js';
export type { PolicyRunner } from './resiliency/policy.js';
export { WeftMetrics } from './observability/metrics.js';
export { parseYamlDocuments } from './resources/loader.js';
export { listRegistry, registryDir, pidAlive } from './nameresolution/local/local-resolver.js';
export type { RegistryEntry } from './nameresolution/local/local-resolver.js';
export { KUBERNETES_INTERNAL_PORT, KUBERNETES_PUBLIC_PORT, SERVICE_ACCOUNT_NAMESPACE_FILE, podNamespace } from './sidecar/kubernetes-mode.js';
export type { SidecarMode } from './sidecar/kubernetes-mode.js';
export { RecentLogs } from './admin/recent-logs.js';
export { ADMIN_PREFIX } from './admin/admin-routes.js';
export type { AdminAccessPolicy, AdminResource, AdminResources, AdminSubscription } from './admin/resources-view.js';
export type {
  AdminInfo,
  AdminLogEntry,
  AdminRerunRequest,
  AdminRerunResponse,
  AdminStateKey,
  AdminStateKeysPage,
  AdminWorkflowCounts,
  DeadLetterEntry,
  DeliveryOutcome,
  PubSubTrafficEntry,
  WorkflowHealthResponse,
  WorkflowHealthRow,
} from './admin/types.js';
