/**
 * Every driver Weft ships, registered once. Add a driver here and nowhere else.
 */
import { ComponentRegistry } from './registry.js';
import { InMemoryStateStore } from './state/in-memory/in-memory-store.js';
import { SqliteStateStore } from './state/sqlite/sqlite-store.js';
import { RedisStateStore } from './state/redis/redis-store.js';
import { PostgresStateStore } from './state/postgresql/postgresql-store.js';
import { EnvSecretStore } from './secretstores/local-env/env-store.js';
import { FileSecretStore } from './secretstores/local-file/file-store.js';

/** A registry with all built-in drivers. */
export function builtinRegistry(): ComponentRegistry {
  return new ComponentRegistry()
    .register({ type: 'state.in-memory', versions: ['v1'], create: () => new InMemoryStateStore() })
    .register({ type: 'state.sqlite', versions: ['v1'], create: () => new SqliteStateStore() })
    .register({ type: 'state.redis', versions: ['v1'], create: () => new RedisStateStore() })
    .register({
      type: 'state.postgresql',
      versions: ['v1', 'v2'],
      create: (version) => new PostgresStateStore(version === 'v2' ? 'v2' : 'v1'),
    })
    .register({ type: 'secretstores.local.env', versions: ['v1'], create: () => new EnvSecretStore() })
    .register({ type: 'secretstores.local.file', versions: ['v1'], create: () => new FileSecretStore() });
}
