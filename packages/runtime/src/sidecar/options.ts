/**
 * The sidecar's settings, as daprd's flags name them. The CLI fills them from flags and environment;
 * tests build them directly with {@link resolveSidecarOptions}.
 */
import path from 'node:path';
import type { LogLevel } from '../logging/logger.js';
import type { AppHealthSettings } from './app-health.js';
import type { MtlsSources } from '../security/tls-material.js';
import type { SidecarMode } from './kubernetes-mode.js';
import type { EngineSettings } from '../config/engine-settings.js';

/** Protocols the app may speak on its channel. */
export type AppProtocol = 'http' | 'https' | 'grpc' | 'grpcs' | 'h2c';

/** Everything a sidecar needs to start. */
export interface SidecarOptions {
  appId: string;
  /** No app port means no app channel. */
  appPort?: number;
  /** @default 'http' */
  appProtocol: AppProtocol;
  /** @default '127.0.0.1' */
  appChannelAddress: string;
  /** Resource directories; empty means the embedded defaults. */
  resourcesPaths: string[];
  /** `--config` Configuration file. */
  configPath?: string;
  /** HTTP API port; 0 picks a free one. @default 3500 */
  httpPort: number;
  /** gRPC API port; 0 picks a free one. @default 50001 */
  grpcPort: number;
  /** Sidecar-to-sidecar (service invocation) port; 0 picks a free one. @default 0 (50002 in Kubernetes mode) */
  internalPort?: number;
  /**
   * `--mode`: `kubernetes` resolves app ids through cluster DNS (unless the Configuration names a
   * resolver) and serves the internal port on every interface. @default 'standalone'
   */
  mode: SidecarMode;
  /** `--dapr-public-port`: health only, for kubelet probes; not served when undefined. */
  publicPort?: number;
  /** Address the public port binds to. @default '0.0.0.0' */
  publicListenAddress: string;
  /** Prometheus port; 0 picks a free one, -1 disables. @default 9090 */
  metricsPort: number;
  /** Address the metrics endpoint binds to (daprd's default is 0.0.0.0; Weft's is loopback). @default '127.0.0.1' */
  metricsListenAddress: string;
  /** `--enable-metrics`; `false` turns metrics off whatever the Configuration says. @default true */
  enableMetrics: boolean;
  /** `--enable-api-logging`; overrides the Configuration's `logging.apiLogging.enabled` when set. */
  enableApiLogging?: boolean;
  /** Time a client has to send request headers before it is cut off (slowloris). @default 60000 */
  httpHeadersTimeoutMs: number;
  /** Time a client has to send a whole request. @default 300000 */
  httpRequestTimeoutMs: number;
  /** Largest HTTP header block accepted (`--read-buffer-size`). @default 16384 */
  maxHeaderBytes: number;
  /** Addresses the APIs listen on. @default ['127.0.0.1'] */
  listenAddresses: string[];
  /** Largest accepted request body. @default 4 MiB */
  maxRequestBodyBytes: number;
  /** @default 'info' */
  logLevel: LogLevel;
  /** @default false */
  logAsJson: boolean;
  /** `DAPR_API_TOKEN`: required on every API call but health. */
  apiToken?: string;
  /** `APP_API_TOKEN`: sent to the app as `dapr-api-token`. */
  appApiToken?: string;
  /** Where embedded stores live. @default `<cwd>/.weft` */
  dataDir: string;
  /** `NAMESPACE`; empty in self-hosted mode. */
  namespace: string;
  /**
   * Engine settings given as flags (`--workflow-retention 7d`), by setting; they override the
   * `WEFT_*` environment and the Configuration. Validated at start (see `config/engine-settings.ts`).
   */
  engineFlags?: Partial<Record<keyof EngineSettings, string | undefined>>;
  /** The environment components read (`envRef`, `secretstores.local.env`), and the `WEFT_*` engine settings. */
  env: Readonly<Record<string, string | undefined>>;
  /** App health checks (`--enable-app-health-check`); off when undefined. */
  appHealthCheck?: AppHealthSettings;
  /** Seconds to wait for in-flight work on shutdown. @default 5 */
  gracefulShutdownSeconds: number;
  /**
   * Mutual TLS between sidecars (`--enable-mtls`) with these user-provided certificates; plain text
   * when undefined.
   */
  mtls?: MtlsSources;
}

/** Defaults for every option but the app id. */
export function resolveSidecarOptions(partial: Partial<SidecarOptions> & { appId: string }): SidecarOptions {
  const env = partial.env ?? process.env;
  return {
    appProtocol: 'http',
    appChannelAddress: '127.0.0.1',
    resourcesPaths: [],
    httpPort: 3500,
    grpcPort: 50001,
    metricsPort: 9090,
    metricsListenAddress: '127.0.0.1',
    mode: 'standalone',
    publicListenAddress: '0.0.0.0',
    enableMetrics: true,
    httpHeadersTimeoutMs: 60_000,
    httpRequestTimeoutMs: 300_000,
    maxHeaderBytes: 16 * 1024,
    listenAddresses: ['127.0.0.1'],
    maxRequestBodyBytes: 4 * 1024 * 1024,
    logLevel: 'info',
    logAsJson: false,
    dataDir: path.resolve('.weft'),
    namespace: env['NAMESPACE'] ?? '',
    gracefulShutdownSeconds: 5,
    ...partial,
    ...(partial.apiToken === undefined && env['DAPR_API_TOKEN'] ? { apiToken: env['DAPR_API_TOKEN'] } : {}),
    ...(partial.appApiToken === undefined && env['APP_API_TOKEN'] ? { appApiToken: env['APP_API_TOKEN'] } : {}),
    env,
  };
}
