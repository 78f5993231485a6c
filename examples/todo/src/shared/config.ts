/**
 * Names shared by every service of the platform: Dapr component names, topics and app ids. They are
 * the only coupling between the services and the resource files, so they live in one place.
 */

/** Dapr component names, as declared in `resources/` and `production/`. */
export const COMPONENTS = {
  pubsub: process.env['TODO_PUBSUB'] ?? 'pubsub',
  state: process.env['TODO_STATESTORE'] ?? 'statestore',
  secrets: process.env['TODO_SECRETSTORE'] ?? 'secretstore',
  notificationProvider: 'notification-provider',
} as const;

/**
 * Pub/sub topics (the seed's). `TODO_TOPIC_PREFIX` lets several copies of the platform share one
 * broker without hearing each other's events (the tests do that).
 */
const topicPrefix = process.env['TODO_TOPIC_PREFIX'] ?? '';
export const TOPICS = {
  taskEvents: `${topicPrefix}task-events`,
  reminders: `${topicPrefix}reminders`,
  auditLogs: `${topicPrefix}audit-logs`,
} as const;

/** App ids (the seed's). */
export const APP_IDS = {
  backend: 'todo-backend',
  notification: 'notification-service',
  recurring: 'recurring-task-service',
} as const;

/** Reads a positive integer from the environment, with a default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The port the app listens on: `APP_PORT` (set by `weft run`), else the fallback. */
export function appPort(fallback: number): number {
  return envInt('APP_PORT', fallback);
}
