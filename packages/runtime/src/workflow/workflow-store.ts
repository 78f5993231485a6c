/**
 * Where workflows live: the declared actor state store decides, as on Dapr (where workflow state is
 * actor state). The component with `actorStateStore: "true"` maps to a backend:
 *
 * - `state.postgresql` (v1, v2): the Postgres backend on its `connectionString`.
 * - `state.redis`: the Redis backend, connected with the component's own settings (`redisHost`,
 *   `redisPassword`, `redisUsername`, `redisDB`, `enableTLS`, timeouts...), read by the state.redis
 *   driver's parser, so both agree on what the metadata means.
 * - `state.sqlite`: the SQLite backend in that component's database file. Dapr keeps workflow state
 *   in the actor state store, so a user who points it at a file expects workflows there: a copy or
 *   backup of the file carries them, and replicas that share the file share their workflows. The
 *   backend's tables (`wf_*`) sit beside the store's own. An in-memory database (`:memory:`) gives an
 *   in-memory SQLite backend: not durable, like the store. The embedded default component (no
 *   resources path) keeps workflows in `<dataDir>/workflows.sqlite`, where they always were.
 * - `state.in-memory`: the in-memory backend, not durable, as Dapr's in-memory store.
 * - any other type: a start-up error naming the component and its type.
 * - none declared: the embedded SQLite file `<dataDir>/workflows.sqlite`.
 */
import path from 'node:path';
import type { RedisOptions } from 'ioredis';
import type { ComponentManager, LoadedComponent } from '../components/manager.js';
import { readProperty } from '../components/metadata.js';
import { parseRedisStateMetadata, redisOptions } from '../components/state/redis/metadata.js';
import { parseSqliteStateMetadata } from '../components/state/sqlite/metadata.js';
import { EMBEDDED_SOURCE } from '../sidecar/embedded.js';
import { postgresUrl } from '../util/postgres-connection.js';

/** The state component types that can hold workflows. */
export const WORKFLOW_STORE_TYPES = ['state.postgresql', 'state.redis', 'state.sqlite', 'state.in-memory'] as const;

/** The chosen workflow store, with what is needed to open it and a description without secrets. */
export type WorkflowStore =
  | { kind: 'postgres'; component: string; connectionString: string; describe: string }
  | { kind: 'redis'; component: string; options: RedisOptions; describe: string }
  | { kind: 'sqlite'; component?: string; file: string; busyTimeoutMs?: number; describe: string }
  | { kind: 'memory'; component: string; describe: string };

/** A declared actor state store that cannot hold workflows. */
export class WorkflowStoreError extends Error {
  constructor(component: LoadedComponent) {
    super(
      `the actor state store "${component.name}" (${component.type}) cannot host workflows: ` +
        `workflows run on an actor state store of type ${WORKFLOW_STORE_TYPES.join(', ')}; ` +
        `mark one of those actorStateStore: "true", or declare none for the embedded SQLite store`,
    );
    this.name = 'WorkflowStoreError';
  }
}

/** The state component marked `actorStateStore: "true"`, if any. */
export function actorStateStore(components: ComponentManager): LoadedComponent | undefined {
  return components.ofKind('state').find((c) => (readProperty(c.properties, 'actorStateStore') ?? '').toLowerCase() === 'true');
}

/** The Postgres connection string of the actor state store, if it is a `state.postgresql` component. */
export function actorPostgresConnection(components: ComponentManager): string | undefined {
  const store = actorStateStore(components);
  if (!store || !store.type.startsWith('state.postgres')) return undefined;
  return readProperty(store.properties, 'connectionString');
}

/** Decides where the app's workflows live (see the module comment); throws {@link WorkflowStoreError}. */
export function chooseWorkflowStore(components: ComponentManager, dataDir: string): WorkflowStore {
  const embedded = (): WorkflowStore => {
    const file = path.join(dataDir, 'workflows.sqlite');
    return { kind: 'sqlite', file, describe: `embedded SQLite backend in ${file}` };
  };
  const store = actorStateStore(components);
  if (!store) return embedded();
  const named = `the actor state store "${store.name}"`;
  if (store.type === 'state.postgresql' || store.type.startsWith('state.postgres')) {
    const connectionString = readProperty(store.properties, 'connectionString') ?? '';
    return { kind: 'postgres', component: store.name, connectionString, describe: `PostgreSQL backend in ${named} (${postgresLocation(connectionString)})` };
  }
  if (store.type === 'state.redis') {
    const meta = parseRedisStateMetadata(store.properties);
    const where = `${meta.host}:${meta.port} db ${meta.db}${meta.enableTLS ? ', TLS' : ''}`;
    return { kind: 'redis', component: store.name, options: redisOptions(meta), describe: `Redis backend in ${named} (${where})` };
  }
  if (store.type === 'state.sqlite') {
    if (store.source === EMBEDDED_SOURCE) return embedded();
    const meta = parseSqliteStateMetadata(store.properties, dataDir);
    if (meta.filePath === ':memory:') return { kind: 'sqlite', component: store.name, file: ':memory:', describe: `in-memory SQLite backend (${named} is in memory; not durable)` };
    return { kind: 'sqlite', component: store.name, file: meta.filePath, busyTimeoutMs: meta.busyTimeoutMs, describe: `SQLite backend in ${named} (${meta.filePath})` };
  }
  if (store.type === 'state.in-memory') return { kind: 'memory', component: store.name, describe: `in-memory backend (${named} is state.in-memory; not durable)` };
  throw new WorkflowStoreError(store);
}

/** Host, port and database of a Postgres connection string, URL or key=value (never its password). */
function postgresLocation(connectionString: string): string {
  try {
    const url = new URL(postgresUrl(connectionString));
    const socket = url.searchParams.get('host');
    return `${socket ?? url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    // Not parseable: the backend's own open reports it; the banner names no location.
    return 'connection string not understood';
  }
}
