/**
 * The REST API for definitions — CRUD, validation errors with the seed's status codes, OpenAPI and
 * Swagger UI — and the cache-aside rules, on the production backends (PostgreSQL in a schema of its
 * own, Redis under a key prefix of its own) and on the embedded path (PGlite, in-process cache).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, REDIS_HOST, SERVICES, requireService } from '../../../test/support/services.js';
import { startStack, uniqueName, waitFor } from './support.js';
import type { Stack } from './support.js';

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const schema = `wfsvc_${runId}`;
const redisPrefix = `wfsvc-test-${runId}:`;

type Variant = { name: string; production: boolean };
const variants: Variant[] = [
  { name: 'PostgreSQL + Redis', production: true },
  { name: 'embedded PGlite + in-process cache', production: false },
];

describe.each(variants)('workflow definitions over REST ($name)', ({ production }) => {
  let stack: Stack;
  let db: pg.Client | undefined;
  let redis: Redis | undefined;
  let enabled = true;
  let failed = false;
  const ttlSeconds = production ? 60 : 2;

  beforeAll(async () => {
    if (production) {
      enabled = (await requireService(SERVICES.postgres, 'workflow-service definitions')) && (await requireService(SERVICES.redis, 'workflow-service definitions'));
      if (!enabled) return;
      db = new pg.Client({ connectionString: POSTGRES_URL });
      await db.connect();
      redis = new Redis(`redis://${REDIS_HOST}`);
      stack = await startStack({ kind: 'postgres', databaseUrl: POSTGRES_URL, schema, redisUrl: `redis://${REDIS_HOST}`, redisPrefix }, { CACHE_TTL_SECONDS: String(ttlSeconds) });
    } else {
      stack = await startStack({ kind: 'embedded' }, { CACHE_TTL_SECONDS: String(ttlSeconds) });
    }
  }, 180_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    if (failed) console.error(stack?.logs());
    await stack?.stop();
    if (db) {
      await db.query(`drop schema if exists ${schema} cascade`);
      await db.end();
    }
    if (redis) {
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  const task = (name: string, sequence: number, extra: Record<string, unknown> = {}) => ({
    name,
    sequence,
    execution_type: 'sync',
    kind: 'transform',
    config: { operation: 'uppercase', input: name },
    ...extra,
  });

  it('serves the OpenAPI document and Swagger UI at /docs, from local assets', async ({ skip }) => {
    if (!enabled) skip();
    const doc = await stack.api('GET', '/docs/json');
    expect(doc.status).toBe(200);
    const openapi = doc.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/workflows', '/workflows/{workflowId}', '/workflows/{workflowId}/tasks/{taskId}', '/executions/{executionId}']));
    expect(Object.keys(openapi.paths['/workflows/{workflowId}']!)).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
    const ui = await fetch(`${stack.apiUrl}/docs`);
    expect(ui.status).toBe(200);
    const html = await ui.text();
    expect(html).toMatch(/swagger-ui/i);
    const bundle = await fetch(`${stack.apiUrl}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
  });

  it('creates, reads, updates and deletes workflows and tasks with the seed status codes', async ({ skip }) => {
    if (!enabled) skip();
    const name = uniqueName('orders');
    const created = await stack.api('POST', '/workflows', { name, description: 'nightly', tasks: [task('second', 2), task('first', 1, { execution_type: 'async' })] });
    expect(created.status).toBe(201);
    const wf = created.body as { id: string; name: string; tasks: { id: string; name: string; sequence: number; execution_type: string }[] };
    expect(wf).toMatchObject({ name, description: 'nightly' });
    expect(wf.tasks.map((t) => [t.name, t.sequence, t.execution_type])).toEqual([
      ['first', 1, 'async'],
      ['second', 2, 'sync'],
    ]);

    expect((await stack.api('POST', '/workflows', { name })).status).toBe(409);
    const list = await stack.api('GET', '/workflows?limit=200');
    expect(list.status).toBe(200);
    expect((list.body as { items: { id: string }[] }).items.map((w) => w.id)).toContain(wf.id);

    const updated = await stack.api('PUT', `/workflows/${wf.id}`, { description: 'hourly' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: wf.id, name, description: 'hourly' });

    const added = await stack.api('POST', `/workflows/${wf.id}/tasks`, { name: 'third', sequence: 3, kind: 'delay', config: { seconds: 1 } });
    expect(added.status).toBe(201);
    const third = added.body as { id: string; execution_type: string };
    expect(third.execution_type).toBe('sync');
    expect((await stack.api('POST', `/workflows/${wf.id}/tasks`, task('third', 4))).status).toBe(409);
    const replaced = await stack.api('PUT', `/workflows/${wf.id}/tasks/${third.id}`, { name: 'third', sequence: 0 + 5, execution_type: 'async', kind: 'http', config: { app_id: 'task-target', method: 'echo', body: { a: 1 } } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: third.id, kind: 'http', sequence: 5, config: { app_id: 'task-target', method: 'echo', verb: 'POST', body: { a: 1 } } });
    expect((await stack.api('GET', `/workflows/${wf.id}/tasks/${third.id}`)).body).toMatchObject({ id: third.id, sequence: 5 });
    expect(((await stack.api('GET', `/workflows/${wf.id}/tasks`)).body as { name: string }[]).map((t) => t.name)).toEqual(['first', 'second', 'third']);

    expect((await stack.api('DELETE', `/workflows/${wf.id}/tasks/${third.id}`)).status).toBe(204);
    expect((await stack.api('DELETE', `/workflows/${wf.id}/tasks/${third.id}`)).status).toBe(404);
    expect((await stack.api('GET', `/workflows/${wf.id}/tasks/${third.id}`)).status).toBe(404);

    expect((await stack.api('DELETE', `/workflows/${wf.id}`)).status).toBe(204);
    const gone = await stack.api('GET', `/workflows/${wf.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ detail: `workflow ${wf.id} not found` });
    expect((await stack.api('DELETE', `/workflows/${wf.id}`)).status).toBe(404);
    expect((await stack.api('PUT', `/workflows/${wf.id}`, { name: 'x' })).status).toBe(404);
    expect((await stack.api('POST', `/workflows/${wf.id}/tasks`, task('late', 1))).status).toBe(404);
  });

  it('rejects invalid requests with 422 and the location of each problem', async ({ skip }) => {
    if (!enabled) skip();
    const locs = (body: unknown) => (body as { detail: { loc: (string | number)[] }[] }).detail.map((d) => d.loc.join('.'));
    const missing = await stack.api('POST', '/workflows', {});
    expect(missing.status).toBe(422);
    expect(locs(missing.body)).toContain('body.name');

    const badTask = await stack.api('POST', '/workflows', { name: uniqueName('bad'), tasks: [{ name: 'a', sequence: 0, execution_type: 'parallel', kind: 'transform', config: { operation: 'uppercase' } }] });
    expect(badTask.status).toBe(422);
    expect(locs(badTask.body)).toEqual(expect.arrayContaining(['body.tasks.0.sequence', 'body.tasks.0.execution_type']));

    const badHttp = await stack.api('POST', '/workflows', { name: uniqueName('bad'), tasks: [{ name: 'call', sequence: 1, kind: 'http', config: { method: 'x' } }] });
    expect(badHttp.status).toBe(422);
    expect(locs(badHttp.body)).toContain('body.tasks.0.config.app_id');

    const badKind = await stack.api('POST', '/workflows', { name: uniqueName('bad'), tasks: [{ name: 'run', sequence: 1, kind: 'shell', config: { command: 'rm -rf /' } }] });
    expect(badKind.status).toBe(422);

    const duplicate = await stack.api('POST', '/workflows', { name: uniqueName('dup'), tasks: [task('same', 1), task('same', 2)] });
    expect(duplicate.status).toBe(422);
    expect((duplicate.body as { detail: { msg: string }[] }).detail[0]!.msg).toMatch(/unique/);

    const pick = await stack.api('POST', '/workflows', { name: uniqueName('bad'), tasks: [{ name: 'p', sequence: 1, kind: 'transform', config: { operation: 'pick' } }] });
    expect(pick.status).toBe(422);
    expect(locs(pick.body)).toContain('body.tasks.0.config.path');

    const notJson = await stack.api('POST', '/workflows', '{"name":');
    expect(notJson.status).toBe(422);

    expect(locs((await stack.api('GET', '/workflows/not-a-uuid')).body)).toEqual(['params.workflowId']);
    expect((await stack.api('GET', '/workflows?limit=0')).status).toBe(422);
    const emptyUpdate = await stack.api('PUT', `/workflows/6f1d2c3b-0000-4000-8000-000000000000`, {});
    expect(emptyUpdate.status).toBe(422);
    expect((await stack.api('GET', '/executions/6f1d2c3b-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('serves reads from the cache and invalidates it on every change', async ({ skip }) => {
    if (!enabled) skip();
    const wf = (await stack.api('POST', '/workflows', { name: uniqueName('cached'), description: 'v1', tasks: [task('one', 1)] })).body as { id: string };
    const key = `${redisPrefix}workflow:${wf.id}`;
    const get = async () => {
      const res = await stack.api('GET', `/workflows/${wf.id}`);
      return { status: res.status, cache: res.headers.get('x-cache'), body: res.body as { description: string; tasks: { id: string; name: string }[] } };
    };

    // Creating filled the cache (create answers with the read-through definition): a hit.
    expect((await get()).cache).toBe('hit');
    if (redis) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(ttlSeconds);
      // Proof that a hit does not read Postgres: change the row behind the service's back.
      await db!.query(`update ${schema}.workflows set description = 'changed behind the cache' where id = $1`, [wf.id]);
      expect(await get()).toMatchObject({ cache: 'hit', body: { description: 'v1' } });
      // Once evicted, the database answers again.
      await redis.del(key);
      expect(await get()).toMatchObject({ cache: 'miss', body: { description: 'changed behind the cache' } });
    }

    // Update: invalidated, then read through.
    expect((await stack.api('PUT', `/workflows/${wf.id}`, { description: 'v2' })).status).toBe(200);
    if (redis) expect(JSON.parse((await redis.get(key))!)).toMatchObject({ description: 'v2' });
    expect(await get()).toMatchObject({ cache: 'hit', body: { description: 'v2' } });

    // Task changes invalidate the workflow's definition too.
    const added = (await stack.api('POST', `/workflows/${wf.id}/tasks`, task('two', 2))).body as { id: string };
    expect((await get()).body.tasks.map((t) => t.name)).toEqual(['one', 'two']);
    await stack.api('PUT', `/workflows/${wf.id}/tasks/${added.id}`, task('deux', 2));
    expect((await get()).body.tasks.map((t) => t.name)).toEqual(['one', 'deux']);
    await stack.api('DELETE', `/workflows/${wf.id}/tasks/${added.id}`);
    expect((await get()).body.tasks.map((t) => t.name)).toEqual(['one']);

    // A stale entry planted in the cache is served until the next change drops it.
    if (redis) {
      await redis.set(key, JSON.stringify({ ...(await get()).body, description: 'stale' }), 'EX', ttlSeconds);
      expect(await get()).toMatchObject({ cache: 'hit', body: { description: 'stale' } });
      expect((await stack.api('POST', `/workflows/${wf.id}/tasks`, task('three', 3))).status).toBe(201);
      expect(await get()).toMatchObject({ body: { description: 'v2' } });
    }

    // Delete: invalidated, and the next read is a 404 rather than a stale definition.
    expect((await stack.api('DELETE', `/workflows/${wf.id}`)).status).toBe(204);
    if (redis) expect(await redis.exists(key)).toBe(0);
    expect((await get()).status).toBe(404);
  });

  // With Redis the TTL is Redis' own (checked above); the in-process cache applies it itself.
  if (!production) it('lets a cached definition expire after its TTL', async () => {
    const wf = (await stack.api('POST', '/workflows', { name: uniqueName('ttl'), tasks: [task('one', 1)] })).body as { id: string };
    expect((await stack.api('GET', `/workflows/${wf.id}`)).headers.get('x-cache')).toBe('hit');
    await waitFor('the cached definition to expire', async () => ((await stack.api('GET', `/workflows/${wf.id}`)).headers.get('x-cache') === 'miss' ? true : undefined), 30_000);
  });

  if (production) it('records its schema version with the migration tool', async ({ skip }) => {
    if (!enabled) skip();
    const { rows } = await db!.query<{ name: string }>(`select name from ${schema}.kysely_migration order by name`);
    expect(rows.map((r) => r.name)).toEqual(['2026_12_03_0001_definitions_and_executions']);
  });
});
