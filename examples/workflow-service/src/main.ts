/**
 * The workflow service: REST API (definitions, history), gRPC API (executions), and the workflow
 * worker, in one process beside its Weft sidecar. Start it with `weft run -f .` (see weft.yaml).
 */
import { DaprWorkflowClient, LogLevel } from '@dapr/dapr';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { loadConfig } from './config.js';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { MemoryCache, RedisCache } from './definitions/cache.js';
import type { Cache } from './definitions/cache.js';
import { DefinitionRepository } from './definitions/repository.js';
import { DefinitionService } from './definitions/service.js';
import { ExecutionService } from './executions/service.js';
import { ExecutionStore } from './executions/store.js';
import { SupervisedWorker } from './executions/worker.js';
import { registerExecutionWorkflow } from './executions/workflow.js';
import { startGrpcServer } from './grpc/server.js';
import { buildHttpServer } from './http/server.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { app: 'workflow-service' } });

  const { db, description: dbDescription } = await openDatabase(config, logger);
  await migrateToLatest(db, config.DATABASE_SCHEMA, logger);

  const cache = await openCache(config, logger);
  const definitions = new DefinitionService(new DefinitionRepository(db), cache, config.CACHE_TTL_SECONDS, logger);
  const store = new ExecutionStore(db);

  // The workflow worker needs the sidecar up when it starts (the SDK gives up on a first failed
  // connection; later disconnects, e.g. a sidecar restart, it retries by itself).
  await waitForSidecar(config, logger);
  const sdkOptions = { daprHost: config.DAPR_HOST, daprPort: String(config.DAPR_GRPC_PORT), logger: { level: LogLevel.Warn } };
  const daprHttpUrl = `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}`;
  const worker = new SupervisedWorker({
    sdk: sdkOptions,
    daprHttpUrl,
    register: (runtime) => registerExecutionWorkflow(runtime, store, { daprHttpUrl, defaultTimeoutMs: config.HTTP_TASK_TIMEOUT_MS }),
    checkIntervalMs: config.SIDECAR_CHECK_INTERVAL_MS,
    logger,
  });
  await worker.start();
  const workflows = new DaprWorkflowClient(sdkOptions);
  const executions = new ExecutionService(definitions, store, workflows, logger);

  const http = await buildHttpServer({ definitions, executions, store }, logger);
  await http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  const grpc = await startGrpcServer(executions, config.GRPC_HOST, config.GRPC_PORT, logger);
  const httpAddress = http.server.address();
  const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.HTTP_PORT;
  logger.info(
    { http: `http://${config.HTTP_HOST}:${httpPort}`, docs: `http://${config.HTTP_HOST}:${httpPort}/docs`, grpc: `${config.GRPC_HOST}:${grpc.port}`, database: dbDescription, cache: cache.description },
    'workflow service ready',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    grpc.server.forceShutdown();
    await http.close();
    await worker.stop();
    await workflows.stop().catch(() => undefined);
    await cache.close();
    await db.destroy();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(signal));
}

async function openCache(config: Config, logger: Logger): Promise<Cache> {
  if (!config.REDIS_URL) return new MemoryCache();
  const cache = new RedisCache(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger);
  await cache.ready();
  return cache;
}

async function waitForSidecar(config: Config, logger: Logger): Promise<void> {
  const url = `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}/v1.0/healthz/outbound`;
  const deadline = Date.now() + config.SIDECAR_WAIT_SECONDS * 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the sidecar at ${url} did not answer within ${config.SIDECAR_WAIT_SECONDS} s; start the service with "weft run -f ." (or set DAPR_HTTP_PORT / DAPR_GRPC_PORT)`);
    if (attempt === 20) logger.info({ url }, 'waiting for the sidecar');
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
