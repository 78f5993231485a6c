/**
 * Output and input binding drivers against the real services on this machine (Redis, PostgreSQL,
 * Mosquitto), through the sidecar's HTTP API; every effect is checked with the raw client.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { RecordingApp } from '../support/recording-app.js';
import { POSTGRES_URL, REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import { eventually } from '../support/subscriber-app.js';
import { componentYaml } from '../support/resources.js';


const redisUp = await requireService(SERVICES.redis, 'bindings.redis');
const postgresUp = await requireService(SERVICES.postgres, 'bindings.postgresql');
const mqttUp = await requireService(SERVICES.mqtt, 'bindings.mqtt3');

let sidecar: TestSidecar | undefined;
let app: RecordingApp | undefined;
afterEach(async () => {
  await sidecar?.stop();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

const invoke = (s: TestSidecar, name: string, body: unknown) =>
  fetch(`${s.baseUrl}/v1.0/bindings/${name}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe.runIf(redisUp)('bindings.redis', () => {
  it('creates with a TTL, gets and deletes a key that the raw client sees', async () => {
    const raw = new Redis(`redis://${REDIS_HOST}`);
    const key = `weft-bind-${randomUUID()}`;
    try {
      sidecar = await startTestSidecar({ resources: [componentYaml('cache', 'bindings.redis', { redisHost: REDIS_HOST })] });
      const created = await invoke(sidecar, 'cache', { operation: 'create', data: { a: 1 }, metadata: { key, ttlInSeconds: '60' } });
      expect(created.status).toBe(204);
      expect(JSON.parse((await raw.get(key)) ?? '')).toEqual({ a: 1 });
      const ttl = await raw.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      const got = await invoke(sidecar, 'cache', { operation: 'get', metadata: { key } });
      expect(got.status).toBe(200);
      expect(await got.json()).toEqual({ a: 1 });
      expect((await invoke(sidecar, 'cache', { operation: 'delete', metadata: { key } })).status).toBe(204);
      expect(await raw.exists(key)).toBe(0);
    } finally {
      await raw.del(key);
      raw.disconnect();
    }
  });

  it('fails with ERR_INVOKE_OUTPUT_BINDING when the key metadata is missing', async () => {
    sidecar = await startTestSidecar({ resources: [componentYaml('cache', 'bindings.redis', { redisHost: REDIS_HOST })] });
    const res = await invoke(sidecar, 'cache', { operation: 'create', data: 1 });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_INVOKE_OUTPUT_BINDING');
  });
});

describe.runIf(postgresUp)('bindings.postgresql', () => {
  it('runs exec with params and returns query rows as JSON arrays', async () => {
    const table = `weft_bind_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const raw = new pg.Client({ connectionString: POSTGRES_URL });
    await raw.connect();
    try {
      sidecar = await startTestSidecar({ resources: [componentYaml('db', 'bindings.postgresql', { connectionString: POSTGRES_URL })] });
      expect((await invoke(sidecar, 'db', { operation: 'exec', metadata: { sql: `CREATE TABLE ${table} (id int primary key, name text)` } })).status).toBe(200);
      const inserted = await invoke(sidecar, 'db', {
        operation: 'exec',
        metadata: { sql: `INSERT INTO ${table} (id, name) VALUES ($1, $2), ($3, $4)`, params: JSON.stringify([1, 'ada', 2, 'grace']) },
      });
      expect(inserted.status).toBe(200);
      expect(inserted.headers.get('metadata.rows-affected')).toBe('2');
      expect((await raw.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 2 });
      const queried = await invoke(sidecar, 'db', { operation: 'query', metadata: { sql: `SELECT id, name FROM ${table} ORDER BY id` } });
      expect(await queried.json()).toEqual([
        [1, 'ada'],
        [2, 'grace'],
      ]);
      const bad = await invoke(sidecar, 'db', { operation: 'query', metadata: { sql: 'SELEC nonsense' } });
      expect(bad.status).toBe(500);
      expect(((await bad.json()) as { errorCode: string }).errorCode).toBe('ERR_INVOKE_OUTPUT_BINDING');
    } finally {
      await raw.query(`DROP TABLE IF EXISTS ${table}`);
      await raw.end();
    }
  });
});

describe.runIf(mqttUp)('bindings.mqtt3', () => {
  it('publishes create requests at QoS 1 to the topic a raw subscriber listens on', async () => {
    const topic = `weft/bind/${randomUUID()}`;
    const raw = await mqtt.connectAsync(`mqtt://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`, { clean: true });
    try {
      const received: string[] = [];
      raw.on('message', (_t, payload) => received.push(payload.toString()));
      await raw.subscribeAsync(topic, { qos: 1 });
      sidecar = await startTestSidecar({
        resources: [componentYaml('mq', 'bindings.mqtt3', { url: `tcp://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`, topic, direction: 'output' })],
      });
      expect((await invoke(sidecar, 'mq', { operation: 'create', data: { hello: 'mqtt' } })).status).toBe(204);
      await eventually(() => received.length === 1, 10_000, 'raw subscriber receives');
      expect(JSON.parse(received[0] ?? '')).toEqual({ hello: 'mqtt' });
    } finally {
      await raw.endAsync();
    }
  });

  it('delivers messages from the topic to the app, and again after the app failed once', async () => {
    const topic = `weft/bind/${randomUUID()}`;
    let calls = 0;
    app = await startRecordingApp({
      '/mq': (req) => (req.method === 'POST' && ++calls === 1 ? { status: 500 } : { status: 200 }),
    });
    sidecar = await startTestSidecar({
      resources: [
        componentYaml('mq', 'bindings.mqtt3', {
          url: `tcp://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`,
          topic,
          cleanSession: 'true',
          consumerID: `weft-${randomUUID().slice(0, 8)}`,
          retryInterval: '100ms',
        }),
      ],
      appPort: app.port,
    });
    await eventually(() => sidecar!.sidecar.inputBindings?.active.includes('mq') ?? false, 10_000, 'input binding started');
    const raw = await mqtt.connectAsync(`mqtt://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}`, { clean: true });
    try {
      await raw.publishAsync(topic, JSON.stringify({ n: 1 }), { qos: 1 });
    } finally {
      await raw.endAsync();
    }
    await eventually(() => app!.received('POST', '/mq').length >= 2, 10_000, 'redelivery after a failure');
    const [first, second] = app.received('POST', '/mq');
    expect(JSON.parse(first?.body ?? '')).toEqual({ n: 1 });
    expect(second?.body).toBe(first?.body);
    expect(second?.headers['content-type']).toBe('application/json');
  });
});
