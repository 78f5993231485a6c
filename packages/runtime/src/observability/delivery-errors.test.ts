/**
 * Every error a delivery path swallows (turns into a retry, a redelivery or a drop) is logged once
 * with the event id and counted in `weft_delivery_errors_total`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppChannel } from '../appchannel/app-channel.js';
import { InputBindingsRunner } from '../blocks/bindings/input.js';
import type { InputBindingsDeps } from '../blocks/bindings/input.js';
import { handleMessage } from '../blocks/pubsub/handler.js';
import type { HandlerContext } from '../blocks/pubsub/handler.js';
import type { BindingHandler } from '../components/bindings/binding.js';
import type { ComponentManager } from '../components/manager.js';
import { PullConsumer } from '../components/pubsub/pull-consumer.js';
import type { ClaimedMessage } from '../components/pubsub/pull-consumer.js';
import type { PubSub, PubSubMessage } from '../components/pubsub/store.js';
import { SqliteJobStore } from '../jobs/job-store.js';
import { JobScheduler } from '../jobs/scheduler.js';
import type { LogFields, Logger } from '../logging/logger.js';
import { WeftMetrics } from './metrics.js';

interface Line {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

function captureLogger(lines: Line[]): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger, isLevelEnabled: () => true };
  return logger;
}

function metrics(): WeftMetrics {
  return new WeftMetrics({ appId: 'errs', namespace: '', latencyBucketsMs: [1, 10], http: { increasedCardinality: false, pathMatching: [], excludeVerbs: false }, processMetrics: false });
}

async function deliveryErrors(m: WeftMetrics): Promise<string[]> {
  const text = await m.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith('weft_delivery_errors_total{'));
}

const event = (id: string): PubSubMessage => ({
  topic: 'orders',
  data: Buffer.from(JSON.stringify({ specversion: '1.0', id, source: 's', type: 't', datacontenttype: 'application/json', data: { n: 1 } })),
  metadata: {},
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('delivery errors', () => {
  it('the pull consumer logs a handler rejection once with the event id before retrying the message', async () => {
    const lines: Line[] = [];
    let retried!: () => void;
    const retriedOnce = new Promise<void>((resolve) => (retried = resolve));
    let handed = false;
    const consumer = new PullConsumer({
      claim: async () => {
        if (handed) return [];
        handed = true;
        const claimed: ClaimedMessage = { message: event('evt-pull-1'), ack: async () => {}, retry: async () => retried() };
        return [claimed];
      },
      handler: () => Promise.reject(new Error('handler blew up')),
      concurrency: 1,
      pollIntervalMs: 5,
      logger: captureLogger(lines),
    });
    consumer.start();
    cleanups.push(() => consumer.close());
    await retriedOnce;
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('evt-pull-1');
    expect(warnings[0]?.message).toContain('handler blew up');
    expect(warnings[0]?.fields).toMatchObject({ eventId: 'evt-pull-1', topic: 'orders' });
  });

  it('a pub/sub event whose retries are exhausted with no dead-letter topic is logged with its id and counted', async () => {
    const lines: Line[] = [];
    const m = metrics();
    const channel = { call: async () => ({ status: 500, headers: {}, body: Buffer.from('boom') }) } as unknown as AppChannel;
    const ctx: HandlerContext = {
      spec: { pubsubName: 'bus', topic: 'orders', rules: [{ match: '', path: '/orders', test: () => true }], metadata: {}, type: 'DECLARATIVE' } as unknown as HandlerContext['spec'],
      pubsub: {} as PubSub,
      channel,
      policy: { maxRetries: 0, initialIntervalMs: 1, maxIntervalMs: 1, deliveryTimeoutMs: 1000 },
      logger: captureLogger(lines),
      signal: new AbortController().signal,
      metrics: m,
    };
    expect(await handleMessage(ctx, event('evt-sub-7'))).toBe('retry');
    const warnings = lines.filter((l) => l.level === 'warn' && l.message.includes('evt-sub-7'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ block: 'pubsub', component: 'bus', eventId: 'evt-sub-7' });
    expect(await deliveryErrors(m)).toEqual([expect.stringMatching(/component="bus".*block="pubsub"\} 1$/)]);
  });

  it('an input binding event the app refuses is logged once by the runner and counted', async () => {
    const lines: Line[] = [];
    const m = metrics();
    let read!: BindingHandler;
    const component = { name: 'queue', type: 'bindings.test', properties: { direction: 'input' }, instance: { read: async (h: BindingHandler) => void (read = h) } };
    const deps = {
      components: { ofKind: () => [component] } as unknown as ComponentManager,
      output: {} as InputBindingsDeps['output'],
      state: {} as InputBindingsDeps['state'],
      logger: captureLogger(lines),
      resiliency: () => undefined,
      metrics: m,
    } satisfies InputBindingsDeps;
    const runner = new InputBindingsRunner(deps);
    await runner.start({ handles: async () => true, deliver: () => Promise.reject(new Error('app said 500')) });
    await expect(read({ data: Buffer.from('x'), metadata: { id: 'bind-3' } })).rejects.toThrow('app said 500');
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ block: 'bindings', component: 'queue', eventId: 'bind-3' });
    expect(await deliveryErrors(m)).toEqual([expect.stringMatching(/component="queue".*block="bindings"\} 1$/)]);
  });

  it('a job trigger the app refuses is logged with the job name and counted, each attempt', async () => {
    const lines: Line[] = [];
    const m = metrics();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-joberr-'));
    const store = new SqliteJobStore(dir);
    const attempts: number[] = [];
    let done!: () => void;
    const twice = new Promise<void>((resolve) => (done = resolve));
    const scheduler = new JobScheduler({
      appId: 'errs',
      store,
      logger: captureLogger(lines),
      metrics: m,
      maxSleepMs: 5,
      app: () => ({
        trigger: async () => {
          attempts.push(Date.now());
          if (attempts.length === 2) done();
          return { ok: false, reason: 'the app answered HTTP 503' };
        },
      }),
    });
    cleanups.push(async () => {
      await scheduler.close();
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    await scheduler.schedule({ name: 'nightly', dueTime: '0s', failurePolicy: { kind: 'constant', intervalMs: 1, maxRetries: 1 } }, false);
    scheduler.start();
    await twice;
    await vi.waitFor(() => expect(lines.filter((l) => l.level === 'warn')).toHaveLength(2));
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.fields?.['eventId'])).toEqual(['nightly', 'nightly']);
    expect(warnings[1]?.message).toContain('giving up on this trigger after 2 attempts');
    expect(await deliveryErrors(m)).toEqual([expect.stringMatching(/component="nightly".*block="jobs"\} 2$/)]);
  });
});
