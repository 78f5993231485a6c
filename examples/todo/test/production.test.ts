/**
 * The main flow on the production components (`production/`): state in PostgreSQL, events through
 * RabbitMQ, secrets (API key and connection strings) from the mounted secrets file, the task
 * database on PostgreSQL through DATABASE_URL. Names are unique per run: a Postgres schema and state
 * tables, topic names (so exchanges and queues), cleaned up afterwards.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, requireService, SERVICES } from '../../../test/support/services.js';
import type { Platform } from './support/platform.js';
import { api, EXAMPLE_DIR, providerLog, startPlatform, waitFor } from './support/platform.js';

const RABBITMQ_URL = process.env['WEFT_TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const run = (await requireService(SERVICES.postgres, 'todo on production components')) && (await requireService(SERVICES.rabbitmq, 'todo on production components'));

const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
const schema = `todo_${suffix}`;
const stateTable = `todo_state_${suffix}`;
const metadataTable = `todo_state_metadata_${suffix}`;
const topicPrefix = `t${suffix}-`;
const apiKey = `prod-key-${suffix}`;
let platform: Platform | undefined;

beforeAll(async () => {
  if (!run) return;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const secrets = {
    'sendgrid-secret': { 'api-key': apiKey },
    postgres: { connectionString: POSTGRES_URL },
    rabbitmq: { url: RABBITMQ_URL },
  };
  platform = await startPlatform({
    resourcesFrom: path.join(EXAMPLE_DIR, 'production'),
    files: { 'prod-secrets.json': JSON.stringify(secrets) },
    rewrite: (name, yaml, ctx) =>
      yaml
        .replace('/run/secrets/todo/secrets.json', path.join(ctx.dir, 'prod-secrets.json'))
        .replace('value: todo_state_metadata', `value: ${metadataTable}`)
        .replace('value: todo_state\n', `value: ${stateTable}\n`)
        .replace('https://api.sendgrid.com', `http://127.0.0.1:${ctx.providerPort}`),
    env: { TODO_TOPIC_PREFIX: topicPrefix, PROVIDER_API_KEY: apiKey },
    backendEnv: { DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` },
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  if (!run) return;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.query(`DROP TABLE IF EXISTS ${stateTable}, ${metadataTable}`);
  await admin.end();
  // The production component keeps exchanges and queues (durable, not auto-deleted): remove ours.
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  for (const topic of ['task-events', 'reminders', 'audit-logs']) await channel.deleteExchange(`${topicPrefix}${topic}`);
  for (const queue of [`notification-service-${topicPrefix}task-events`, `notification-service-${topicPrefix}reminders`, `recurring-task-service-${topicPrefix}task-events`]) {
    await channel.deleteQueue(queue);
  }
  await connection.close();
}, 60_000);

describe.skipIf(!run)('todo platform on PostgreSQL and RabbitMQ', () => {
  it('runs the main flow: notifications with the production API key, the next occurrence, state in Postgres', async () => {
    const user = `prod-${suffix}`;
    const client = api(platform!, user);
    const created = await client.create({ title: 'Renew the passport', due_at: '2030-03-01T08:00:00Z', recurrence: { frequency: 'monthly', interval: 1 } });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    await waitFor('the task.created notification', async () => ((await providerLog(platform!)).received.some((r) => r.body.task_id === id && r.body.event_type === 'task.created') ? true : undefined), 60_000, platform!.output);

    expect((await client.complete(id)).status).toBe(200);
    const next = await waitFor('the next occurrence', async () => {
      const tasks = (await client.list('?status=pending')).body['tasks'] as { id: string; recurrence_parent_id: string | null; due_at: string }[];
      return tasks.find((t) => t.recurrence_parent_id === id);
    });
    expect(next.due_at).toBe('2030-04-01T08:00:00.000Z');
    // Three notifications: the task created, completed, and its next occurrence created.
    const expected = [`task.completed:${id}`, `task.created:${id}`, `task.created:${next.id}`].sort();
    const mine = await waitFor('all three notifications', async () => {
      const got = (await providerLog(platform!)).received.filter((r) => r.body.user_id === user);
      return got.length >= expected.length ? got : undefined;
    });
    expect(mine.every((r) => r.authorization === `Bearer ${apiKey}`)).toBe(true);
    expect(mine.map((r) => `${r.body.event_type}:${r.body.task_id}`).sort()).toEqual(expected);

    // The data really is in PostgreSQL: tasks in our schema, sidecar state in our table.
    const db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    try {
      const tasks = await db.query(`SELECT id, status FROM ${schema}.tasks WHERE user_id = $1 ORDER BY created_at`, [user]);
      expect(tasks.rows).toEqual([
        { id, status: 'completed' },
        { id: next.id, status: 'pending' },
      ]);
      const state = await db.query(`SELECT key FROM ${stateTable} WHERE key = $1`, [`todo-backend||rate_limit:user:${user}`]);
      expect(state.rowCount).toBe(1);
    } finally {
      await db.end();
    }
  }, 180_000);
});
