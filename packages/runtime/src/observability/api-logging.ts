/**
 * API logging (Configuration `logging.apiLogging`, or `--enable-api-logging`): one info line per API
 * call, as daprd writes them (`HTTP API Called` / `gRPC API Called`, scope `dapr.runtime.http-info`
 * / `dapr.runtime.grpc-info`). The query string is never logged; with `obfuscateURLs` the path is
 * replaced by the endpoint name, so keys and ids stay out of the logs too.
 */
import type { GrpcCallRecord } from '../api/grpc/server.js';
import type { HttpRequestRecord } from '../api/http/server.js';
import type { Logger } from '../logging/logger.js';

/** `logging.apiLogging` settings. */
export interface ApiLoggingSettings {
  obfuscateURLs: boolean;
  omitHealthChecks: boolean;
}

/** An HTTP observer that logs each call. */
export function httpApiLogger(logger: Logger, settings: ApiLoggingSettings): (r: HttpRequestRecord) => void {
  const log = logger.child('dapr.runtime.http-info');
  return (r) => {
    if (settings.omitHealthChecks && r.route?.group === 'healthz') return;
    const target = settings.obfuscateURLs ? (r.route?.name ?? 'unknown') : r.path;
    log.info('HTTP API Called', { method: `${r.method} ${target}`, code: r.status, duration: Math.round(r.durationMs) });
  };
}

/** A gRPC observer that logs each call. */
export function grpcApiLogger(logger: Logger): (c: GrpcCallRecord) => void {
  const log = logger.child('dapr.runtime.grpc-info');
  return (c) => log.info('gRPC API Called', { method: c.fullMethod, code: c.status, duration: Math.round(c.durationMs) });
}
