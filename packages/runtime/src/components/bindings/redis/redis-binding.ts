/**
 * `bindings.redis`: an output binding over one Redis node. Operations `create` (SET the request data
 * at metadata `key`, with optional `ttlInSeconds`), `get` (the value, empty when absent), `delete`
 * and `increment`. Connection metadata is the same as `state.redis` (`redisHost`, `redisPassword` …).
 */
import type { Redis } from 'ioredis';
import type { Component, ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { parseRedisStateMetadata } from '../../state/redis/metadata.js';
import { redisOptions } from '../../state/redis/metadata.js';
import { connectRedis } from '../../redis-connect.js';
import type { InvokeRequest, InvokeResponse, OutputBinding } from '../binding.js';

const OPERATIONS = ['create', 'get', 'delete', 'increment'] as const;

function keyOf(request: InvokeRequest): string {
  const key = request.metadata['key'];
  if (key === undefined || key === '') throw new Error('metadata "key" is required');
  return key;
}

function ttlOf(request: InvokeRequest): number | undefined {
  const raw = request.metadata['ttlInSeconds'];
  if (raw === undefined || raw === '') return undefined;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 0) throw new Error(`ttlInSeconds must be a whole number of seconds, got "${raw}"`);
  return ttl;
}

/** The Redis output binding. */
export class RedisBinding implements OutputBinding, Component {
  private client: Redis | undefined;

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    const client = await connectRedis(redisOptions(parseRedisStateMetadata(props)), context.logger, undefined, context.signal);
    this.client = client;
  }

  operations(): readonly string[] {
    return OPERATIONS;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse | undefined> {
    const client = this.client;
    if (!client) throw new Error('redis binding is not initialised');
    const key = keyOf(request);
    switch (request.operation) {
      case 'create': {
        const ttl = ttlOf(request);
        if (ttl) await client.set(key, request.data, 'EX', ttl);
        else await client.set(key, request.data);
        return undefined;
      }
      case 'get': {
        const value = await client.getBuffer(key);
        return { data: value ?? Buffer.alloc(0) };
      }
      case 'delete':
        await client.del(key);
        return undefined;
      case 'increment': {
        const value = await client.incr(key);
        const ttl = ttlOf(request);
        if (ttl) await client.expire(key, ttl);
        return { data: Buffer.from(String(value)) };
      }
      default:
        throw new Error(`unsupported operation ${request.operation}`);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }
}
