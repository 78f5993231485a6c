/**
 * `npm run migrate`: applies pending migrations to the configured database and exits — for
 * deployments that migrate as a release step. The service also migrates at start-up (under the
 * Migrator's lock, so replicas starting together are safe).
 */
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'workflow-service-migrate' } });
const { db, description } = await openDatabase(config, logger);
try {
  const applied = await migrateToLatest(db, config.DATABASE_SCHEMA, logger);
  logger.info({ database: description, applied }, applied.length > 0 ? 'migrations applied' : 'schema already up to date');
} finally {
  await db.destroy();
}
