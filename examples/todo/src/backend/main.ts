/**
 * todo-backend: `node --import tsx src/backend/main.ts` beside a Weft (or Dapr) sidecar. Reads
 * `APP_PORT` (default 8000), `DAPR_HTTP_PORT`, `DATABASE_URL` (else embedded PGlite in
 * `PGLITE_DATA_DIR`), `TASK_CACHE_TTL_SECONDS`, `RATE_LIMIT_PER_MINUTE`, `TASK_RETENTION_DAYS`.
 */
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { appPort, COMPONENTS, envInt } from '../shared/config.js';
import { StateClient } from '../shared/state.js';
import { buildBackend } from './app.js';
import { openDatabase } from './db.js';

const db = await openDatabase();
const dapr = new DaprClient({
  daprHost: '127.0.0.1',
  daprPort: process.env['DAPR_HTTP_PORT'] ?? '3500',
  communicationProtocol: CommunicationProtocolEnum.HTTP,
});
const { app, outbox } = buildBackend({
  db,
  dapr,
  state: new StateClient(COMPONENTS.state),
  pubsub: COMPONENTS.pubsub,
  rateLimit: { limit: envInt('RATE_LIMIT_PER_MINUTE', 60), windowSeconds: envInt('RATE_LIMIT_WINDOW_SECONDS', 60) },
  cacheTtlSeconds: envInt('TASK_CACHE_TTL_SECONDS', 3600),
  retentionDays: envInt('TASK_RETENTION_DAYS', 30),
});

const shutdown = async (signal: string) => {
  app.log.info({ signal }, 'shutting down');
  outbox.stop();
  await app.close();
  await outbox.idle();
  await db.destroy();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ host: '127.0.0.1', port: appPort(8000) });
outbox.start();
