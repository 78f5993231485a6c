/**
 * What every shop service shares: a Fastify app with CORS for every origin, structured logs at
 * `LOG_LEVEL`, `GET /health`, the error handler, and its routes served twice — at the root (what the
 * Kubernetes ingress forwards after stripping the prefix) and under the seed's base path
 * (`/customers-service/...`), so URLs written for the ingress also work against a local process.
 */
import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { installErrorHandler } from './errors.js';
import { StateRepository } from './state-repository.js';

/** A service of the shop. */
export interface ServiceDefinition<TRecord> {
  /** Short name, e.g. `customers`: the Dapr app id and the default store `customers-store`. */
  name: string;
  /** Routes, given the repository of this service's records. */
  routes(repository: StateRepository<TRecord>): FastifyPluginAsync;
}

/** Settings read from the environment (what `weft run` / the Deployment sets). */
export interface ServiceSettings {
  /** `APP_PORT` @default 8000 (the seed's port) */
  port: number;
  /** `APP_HOST` @default '0.0.0.0' (a pod's app must be reachable from the sidecar and probes) */
  host: string;
  /** `DAPR_HOST` @default '127.0.0.1' */
  daprHost: string;
  /** `DAPR_HTTP_PORT` @default 3500 */
  daprHttpPort: string;
  /** `STATE_STORE_NAME` @default `<name>-store` */
  stateStoreName: string;
  /** `LOG_LEVEL` @default 'info' */
  logLevel: string;
}

/** Reads {@link ServiceSettings} from `env`. */
export function settingsFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  const port = Number(env['APP_PORT'] ?? 8000);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`APP_PORT must be a port number, got "${env['APP_PORT']}"`);
  return {
    port,
    host: env['APP_HOST'] ?? '0.0.0.0',
    daprHost: env['DAPR_HOST'] ?? '127.0.0.1',
    daprHttpPort: env['DAPR_HTTP_PORT'] ?? '3500',
    stateStoreName: env['STATE_STORE_NAME'] ?? `${name}-store`,
    logLevel: (env['LOG_LEVEL'] ?? 'info').toLowerCase(),
  };
}

/** The base path of a service behind the seed's ingress, e.g. `/customers-service`. */
export function basePath(name: string): string {
  return `/${name}-service`;
}

/** Builds (without listening) the Fastify app of a service. */
export async function buildService<TRecord>(
  definition: ServiceDefinition<TRecord>,
  settings: ServiceSettings,
): Promise<{ app: FastifyInstance; client: DaprClient }> {
  const app = Fastify({ logger: { level: settings.logLevel, base: { service: definition.name } } });
  const client = new DaprClient({
    daprHost: settings.daprHost,
    daprPort: settings.daprHttpPort,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: { level: LogLevel.Warn },
  });
  const repository = new StateRepository<TRecord>(client, settings.stateStoreName);
  await app.register(cors, { origin: true });
  installErrorHandler(app);
  const health = { status: 'healthy', service: definition.name };
  app.get('/health', () => health);
  app.get(`${basePath(definition.name)}/health`, () => health);
  await app.register(definition.routes(repository));
  await app.register(definition.routes(repository), { prefix: basePath(definition.name) });
  app.addHook('onClose', async () => {
    await client.stop();
  });
  return { app, client };
}

/** Starts a service from the environment and stops it on SIGINT/SIGTERM. */
export async function runService<TRecord>(definition: ServiceDefinition<TRecord>): Promise<void> {
  const settings = settingsFromEnv(definition.name);
  const { app } = await buildService(definition, settings);
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ port: settings.port, host: settings.host });
  app.log.info({ store: settings.stateStoreName, basePath: basePath(definition.name) }, `${definition.name} service ready`);
}
