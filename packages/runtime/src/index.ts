/**
 * The Weft runtime: a Dapr-compatible sidecar. Most users start it with the `weft` CLI; tests and
 * embedders use {@link Sidecar.start}.
 */
export { Sidecar } from './sidecar/sidecar.js';
export type { SidecarStartOptions } from './sidecar/sidecar.js';
export { resolveSidecarOptions } from './sidecar/options.js';
export type { SidecarOptions, AppProtocol } from './sidecar/options.js';
export { createLogger, silentLogger } from './logging/logger.js';
export type { Logger, LogLevel } from './logging/logger.js';
export { ResourceError, loadResources } from './resources/loader.js';
export { builtinRegistry } from './components/builtin.js';
export { ComponentRegistry, UnknownComponentError } from './components/registry.js';
export { MetadataError } from './components/metadata.js';
export { ApiError } from './errors/index.js';
export { RUNTIME_VERSION } from './version.js';
export { parseDurationMs } from './util/duration.js';
export { parseYamlDocuments } from './resources/loader.js';
export { listRegistry, registryDir, pidAlive } from './nameresolution/local/local-resolver.js';
export type { RegistryEntry } from './nameresolution/local/local-resolver.js';
