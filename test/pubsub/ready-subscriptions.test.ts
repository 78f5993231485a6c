/**
 * Black-box: `weft sidecar` reports ready (`/v1.0/healthz` 204) only once every subscription of the
 * app is established at its broker, as daprd does, so events published the moment it is ready all
 * reach the app. Run on each real broker of this machine and on the embedded SQLite pub/sub, with an
 * app that subscribes to several topics.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { connect as natsConnect } from 'nats';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_HOST, SERVICES, requireService } from '../support/services.js';
import type { ServiceEndpoint } from '../support/services.js';
import { startSubscriberApp } from '../support/subscriber-app.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

const TOPICS = 6;

interface Broker {
  label: string;
  service?: ServiceEndpoint;
  /** Component YAML named `pubsub`; undefined for the embedded default. */
  component?: string;
  cleanup?: (topics: string[]) => Promise<void>;
}

const BROKERS: Broker[] = [
  { label: 'embedded pubsub.sqlite (no resources path)' },
  {
    label: 'pubsub.redis',
    service: SERVICES.redis,
    component: `  type: pubsub.redis\n  version: v1\n  metadata:\n  - {name: redisHost, value: "${REDIS_HOST}"}\n`,
    cleanup: async (topics) => {
      const [host, port] = REDIS_HOST.split(':');
      const redis = new Redis({ host, port: Number(port ?? 6379) });
      await redis.del(...topics);
      redis.disconnect();
    },
  },
  {
    label: 'pubsub.jetstream',
    service: SERVICES.nats,
    component: `  type: pubsub.jetstream\n  version: v1\n  metadata:\n  - {name: natsURL, value: "nats://${SERVICES.nats.host}:${SERVICES.nats.port}"}\n  - {name: memoryStorage, value: "true"}\n`,
    cleanup: async (topics) => {
      const nc = await natsConnect({ servers: `nats://${SERVICES.nats.host}:${SERVICES.nats.port}` });
      const jsm = await nc.jetstreamManager();
      for (const topic of topics) await jsm.streams.delete(`weft_${topic}`).catch(() => false);
      await nc.close();
    },
  },
  {
    label: 'pubsub.rabbitmq',
    service: SERVICES.rabbitmq,
    component: `  type: pubsub.rabbitmq\n  version: v1\n  metadata:\n  - {name: connectionString, value: "amqp://${SERVICES.rabbitmq.host}:${SERVICES.rabbitmq.port}"}\n  - {name: durable, value: "false"}\n  - {name: deletedWhenUnused, value: "true"}\n`,
  },
  {
    label: 'pubsub.mqtt3',
    service: SERVICES.mqtt,
    component: `  type: pubsub.mqtt3\n  version: v1\n  metadata:\n  - {name: url, value: "tcp://${SERVICES.mqtt.host}:${SERVICES.mqtt.port}"}\n  - {name: cleanSession, value: "true"}\n`,
  },
];

const up = new Map<string, boolean>();
for (const broker of BROKERS) up.set(broker.label, broker.service ? await requireService(broker.service, `ready subscriptions on ${broker.label}`) : true);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.each(BROKERS)('publishing the moment the sidecar is ready on $label', (broker) => {
  it.skipIf(!up.get(broker.label))(`delivers an event on each of ${TOPICS} subscribed topics`, async () => {
    const run = `r${Math.random().toString(36).slice(2, 10)}`;
    const topics = Array.from({ length: TOPICS }, (_, i) => `${run}-t${i}`);
    const app = await startSubscriberApp(
      topics.map((topic) => ({ pubsubname: 'pubsub', topic, route: `/on/${topic}` })),
      await freePort(),
    );
    cleanups.push(() => app.close());
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-ready-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const args = ['--app-id', `ready-${run}`, '--app-port', String(app.port), '--log-level', 'warn'];
    if (broker.component) {
      await fs.mkdir(path.join(dir, 'resources'));
      await fs.writeFile(path.join(dir, 'resources', 'pubsub.yaml'), `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pubsub}\nspec:\n${broker.component}`);
      args.push('--resources-path', path.join(dir, 'resources'));
    }
    if (broker.cleanup) cleanups.push(() => broker.cleanup!(topics));
    const httpPort = await freePort();
    const child = spawn(process.execPath, [WEFT_BIN, 'sidecar', '--dapr-http-port', String(httpPort), '--dapr-grpc-port', String(await freePort()), '--metrics-port', '0', ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });

    // Poll healthz as an orchestrator would, and publish on every topic at the first 204.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz`).then((r) => r.status, () => 0);
      if (status === 204) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the sidecar never became ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const published = await Promise.all(
      topics.map((topic) =>
        fetch(`http://127.0.0.1:${httpPort}/v1.0/publish/pubsub/${topic}`, { method: 'POST', body: JSON.stringify({ topic }), headers: { 'content-type': 'application/json' } }).then((r) => r.status),
      ),
    );
    expect(published).toEqual(topics.map(() => 204));
    await app.waitFor((d) => new Set(d.map((x) => x.path)).size === TOPICS, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\nsidecar output:\n${output}`);
    });
    for (const topic of topics) expect(app.at(`/on/${topic}`).map((d) => (d.body as { data: unknown }).data)).toEqual([{ topic }]);
  });
});
