/**
 * Every driver Weft ships, registered once. Add a driver here and nowhere else. Each registration
 * imports its driver module only when a component of that type is loaded: start-up time and memory
 * then depend on the components in use, not on every client library Weft can talk to.
 */
import { ComponentRegistry } from './registry.js';

/** A registry with all built-in drivers. */
export function builtinRegistry(): ComponentRegistry {
  return new ComponentRegistry()
    .register({
      type: 'state.in-memory',
      versions: ['v1'],
      create: async () => new (await import('./state/in-memory/in-memory-store.js')).InMemoryStateStore(),
    })
    .register({
      type: 'state.sqlite',
      versions: ['v1'],
      create: async () => new (await import('./state/sqlite/sqlite-store.js')).SqliteStateStore(),
    })
    .register({
      type: 'state.redis',
      versions: ['v1'],
      create: async () => new (await import('./state/redis/redis-store.js')).RedisStateStore(),
    })
    .register({
      type: 'state.postgresql',
      versions: ['v1', 'v2'],
      create: async (version) =>
        new (await import('./state/postgresql/postgresql-store.js')).PostgresStateStore(version === 'v2' ? 'v2' : 'v1'),
    })
    .register({
      type: 'secretstores.local.env',
      versions: ['v1'],
      create: async () => new (await import('./secretstores/local-env/env-store.js')).EnvSecretStore(),
    })
    .register({
      type: 'secretstores.local.file',
      versions: ['v1'],
      create: async () => new (await import('./secretstores/local-file/file-store.js')).FileSecretStore(),
    })
    .register({
      type: 'pubsub.in-memory',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/in-memory/in-memory-pubsub.js')).InMemoryPubSub(),
    })
    .register({
      type: 'pubsub.sqlite',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/sqlite/sqlite-pubsub.js')).SqlitePubSub(),
    })
    .register({
      type: 'pubsub.redis',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/redis/redis-pubsub.js')).RedisPubSub(),
    })
    .register({
      type: 'pubsub.rabbitmq',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/rabbitmq/rabbitmq-pubsub.js')).RabbitMqPubSub(),
    })
    .register({
      type: 'pubsub.jetstream',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/jetstream/jetstream-pubsub.js')).JetStreamPubSub(),
    })
    .register({
      type: 'pubsub.mqtt3',
      versions: ['v1'],
      create: async () => new (await import('./pubsub/mqtt3/mqtt3-pubsub.js')).Mqtt3PubSub(),
    })
    .register({
      type: 'bindings.cron',
      versions: ['v1'],
      create: async () => new (await import('./bindings/cron/cron-binding.js')).CronBinding(),
    })
    .register({
      type: 'bindings.http',
      versions: ['v1'],
      create: async () => new (await import('./bindings/http/http-binding.js')).HttpBinding(),
    })
    .register({
      type: 'bindings.redis',
      versions: ['v1'],
      create: async () => new (await import('./bindings/redis/redis-binding.js')).RedisBinding(),
    })
    .register({
      type: 'bindings.postgresql',
      versions: ['v1'],
      create: async () => new (await import('./bindings/postgresql/postgresql-binding.js')).PostgresBinding(),
    })
    .register({
      type: 'bindings.postgres',
      versions: ['v1'],
      create: async () => new (await import('./bindings/postgresql/postgresql-binding.js')).PostgresBinding(),
    })
    .register({
      type: 'bindings.mqtt3',
      versions: ['v1'],
      create: async () => new (await import('./bindings/mqtt3/mqtt3-binding.js')).Mqtt3Binding(),
    })
    .register({
      type: 'configuration.redis',
      versions: ['v1'],
      create: async () => new (await import('./configuration/redis/redis-configuration.js')).RedisConfigurationStore(),
    })
    .register({
      type: 'configuration.postgresql',
      versions: ['v1'],
      create: async () => new (await import('./configuration/postgresql/postgresql-configuration.js')).PostgresConfigurationStore(),
    })
    .register({
      type: 'configuration.postgres',
      versions: ['v1'],
      create: async () => new (await import('./configuration/postgresql/postgresql-configuration.js')).PostgresConfigurationStore(),
    })
    .register({
      type: 'configuration.sqlite',
      versions: ['v1'],
      create: async () => new (await import('./configuration/sqlite/sqlite-configuration.js')).SqliteConfigurationStore(),
    })
    .register({
      type: 'lock.in-memory',
      versions: ['v1'],
      create: async () => new (await import('./lock/in-memory/in-memory-lock.js')).InMemoryLockStore(),
    })
    .register({
      type: 'lock.redis',
      versions: ['v1'],
      create: async () => new (await import('./lock/redis/redis-lock.js')).RedisLockStore(),
    })
    .register({
      type: 'lock.sqlite',
      versions: ['v1'],
      create: async () => new (await import('./lock/sqlite/sqlite-lock.js')).SqliteLockStore(),
    })
    .register({
      type: 'lock.postgresql',
      versions: ['v1'],
      create: async () => new (await import('./lock/postgresql/postgresql-lock.js')).PostgresLockStore(),
    })
    .register({
      type: 'crypto.dapr.jwks',
      versions: ['v1'],
      create: async () => new (await import('./crypto/jwks/jwks-provider.js')).JwksCryptoProvider(),
    })
    .register({
      type: 'crypto.dapr.localstorage',
      versions: ['v1'],
      create: async () => new (await import('./crypto/localstorage/localstorage-provider.js')).LocalStorageCryptoProvider(),
    });
}
