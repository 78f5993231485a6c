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
import { InMemoryPubSub } from './pubsub/in-memory/in-memory-pubsub.js';
import { SqlitePubSub } from './pubsub/sqlite/sqlite-pubsub.js';
import { RedisPubSub } from './pubsub/redis/redis-pubsub.js';
import { RabbitMqPubSub } from './pubsub/rabbitmq/rabbitmq-pubsub.js';
import { JetStreamPubSub } from './pubsub/jetstream/jetstream-pubsub.js';
import { Mqtt3PubSub } from './pubsub/mqtt3/mqtt3-pubsub.js';
import { CronBinding } from './bindings/cron/cron-binding.js';
import { HttpBinding } from './bindings/http/http-binding.js';
import { RedisBinding } from './bindings/redis/redis-binding.js';
import { PostgresBinding } from './bindings/postgresql/postgresql-binding.js';
import { Mqtt3Binding } from './bindings/mqtt3/mqtt3-binding.js';

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
    .register({ type: 'secretstores.local.file', versions: ['v1'], create: () => new FileSecretStore() })
    .register({ type: 'pubsub.in-memory', versions: ['v1'], create: () => new InMemoryPubSub() })
    .register({ type: 'pubsub.sqlite', versions: ['v1'], create: () => new SqlitePubSub() })
    .register({ type: 'pubsub.redis', versions: ['v1'], create: () => new RedisPubSub() })
    .register({ type: 'pubsub.rabbitmq', versions: ['v1'], create: () => new RabbitMqPubSub() })
    .register({ type: 'pubsub.jetstream', versions: ['v1'], create: () => new JetStreamPubSub() })
    .register({ type: 'pubsub.mqtt3', versions: ['v1'], create: () => new Mqtt3PubSub() })
    .register({ type: 'bindings.cron', versions: ['v1'], create: () => new CronBinding() })
    .register({ type: 'bindings.http', versions: ['v1'], create: () => new HttpBinding() })
    .register({ type: 'bindings.redis', versions: ['v1'], create: () => new RedisBinding() })
    .register({ type: 'bindings.postgresql', versions: ['v1'], create: () => new PostgresBinding() })
    .register({ type: 'bindings.postgres', versions: ['v1'], create: () => new PostgresBinding() })
    .register({ type: 'bindings.mqtt3', versions: ['v1'], create: () => new Mqtt3Binding() });
}
