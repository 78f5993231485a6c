/**
 * The pub/sub conformance suite: one set of cases run against every driver through real sidecars
 * (in process) and a real HTTP subscriber app, plus a crash case with the real `weft sidecar`
 * binary killed with SIGKILL mid-stream. Each driver passes a capability list; a case a driver does
 * not claim is skipped with its reason (STYLE.md #4).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../support/in-process.js';
import type { TestSidecar } from '../../support/in-process.js';
import { startSubscriberApp } from '../../support/subscriber-app.js';
import type { SubscriberApp } from '../../support/subscriber-app.js';
import { freePort, startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';

/** What a driver claims. */
export interface PubSubCapabilities {
  /** One consumer at concurrency 1 receives a topic in publish order. */
  ordered: boolean;
  /** Messages survive a SIGKILLed subscriber sidecar. Reason when false. */
  survivesCrash: true | string;
  /** Instances of one app id share messages. Reason when false. */
  consumerGroups?: true | string;
  /** MQTT-style `+` and `#` topic wildcards in subscriptions. */
  wildcards?: boolean;
  /** A smaller "large message" for brokers with a hard payload limit below 1 MiB + envelope, and why. */
  largeMessage?: { bytes: number; reason: string };
}

/** One driver's entry in the suite. */
export interface PubSubConformanceConfig {
  /** Component type, e.g. `pubsub.redis`. */
  type: string;
  capabilities: PubSubCapabilities;
  /** Component YAML for a component named `name`; `dir` is a per-suite temp directory. */
  component(name: string, dir: string): string;
  /** Decides whether the suite runs (a `requireService` call); defaults to true. */
  enabled?: () => Promise<boolean>;
  /** Removes what the suite left on the broker (streams, queues, sessions) for these topics and groups. */
  cleanup?: (used: { topics: string[]; groups: string[] }) => Promise<void>;
}

/** Topics and consumer groups (app ids) of the subscriptions in `subscriptions`. */
function namesOf(subscriptions: unknown[]): string[] {
  return subscriptions.flatMap((s) => {
    const { topic, deadLetterTopic } = s as { topic: string; deadLetterTopic?: string };
    return deadLetterTopic ? [topic, deadLetterTopic] : [topic];
  });
}

const FAST_ENV = {
  WEFT_PUBSUB_MAX_RETRIES: '2',
  WEFT_PUBSUB_RETRY_INTERVAL: '30ms',
  WEFT_PUBSUB_RETRY_MAX_INTERVAL: '100ms',
  WEFT_PUBSUB_DELIVERY_TIMEOUT: '5s',
};

const unique = () => Math.random().toString(36).slice(2, 10);

async function waitSubscribed(baseUrl: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const meta = (await (await fetch(`${baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
      if (meta.subscriptions.length >= count) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`subscriptions did not become active at ${baseUrl}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function publish(baseUrl: string, ps: string, topic: string, body: unknown, query = ''): Promise<number> {
  const res = await fetch(`${baseUrl}/v1.0/publish/${ps}/${topic}${query}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return res.status;
}

const dataOf = (body: unknown) => (body as { data: unknown }).data;

/** Registers the suite for one driver. */
export function pubsubConformance(config: PubSubConformanceConfig): void {
  describe(`pub/sub conformance: ${config.type}`, () => {
    let enabled = true;
    let dir = '';
    const ps = `ps${unique()}`;
    const cleanups: (() => Promise<unknown>)[] = [];
    const used = { topics: new Set<string>(), groups: new Set<string>() };

    beforeAll(async () => {
      enabled = config.enabled ? await config.enabled() : true;
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-psconf-'));
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    });
    afterAll(async () => {
      if (enabled && config.cleanup) await config.cleanup({ topics: [...used.topics], groups: [...used.groups] }).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    });

    /** A sidecar for `appId` subscribed through a real app; returns both. */
    async function subscriber(appId: string, subscriptions: unknown[], extraResources: string[] = []): Promise<{ sidecar: TestSidecar; app: SubscriberApp }> {
      used.groups.add(appId);
      for (const t of namesOf(subscriptions)) used.topics.add(t);
      const app = await startSubscriberApp(subscriptions);
      cleanups.push(() => app.close());
      const sidecar = await startTestSidecar({ appId, resources: [config.component(ps, dir), ...extraResources], appPort: app.port, env: FAST_ENV });
      cleanups.push(() => sidecar.stop());
      await waitSubscribed(sidecar.baseUrl, subscriptions.length);
      return { sidecar, app };
    }

    async function publisher(): Promise<TestSidecar> {
      const sidecar = await startTestSidecar({ appId: `pub-${unique()}`, resources: [config.component(ps, dir)], env: FAST_ENV });
      cleanups.push(() => sidecar.stop());
      return sidecar;
    }

    it('delivers a published event to the subscriber as a CloudEvent', async (ctx) => {
      if (!enabled) return ctx.skip();
      const topic = `rt-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [{ pubsubname: ps, topic, route: '/in' }]);
      const pub = await publisher();
      expect(await publish(pub.baseUrl, ps, topic, { hello: 'world' })).toBe(204);
      await app.waitFor((d) => d.length === 1);
      expect(app.deliveries[0]!.body).toMatchObject({ data: { hello: 'world' }, topic, pubsubname: ps, type: 'com.dapr.event.sent' });
    });

    it('redelivers an event the app answered RETRY, with backoff, until SUCCESS', async (ctx) => {
      if (!enabled) return ctx.skip();
      const topic = `retry-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [{ pubsubname: ps, topic, route: '/in' }]);
      app.reply((d) => (app.deliveries.indexOf(d) < 2 ? { json: { status: 'RETRY' } } : { json: { status: 'SUCCESS' } }));
      const pub = await publisher();
      await publish(pub.baseUrl, ps, topic, { n: 1 });
      await app.waitFor((d) => d.length === 3);
      expect(app.deliveries.map((d) => dataOf(d.body))).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    });

    it('sends dropped events and events whose retries ran out to the dead-letter topic', async (ctx) => {
      if (!enabled) return ctx.skip();
      const topic = `dl-${unique()}`;
      const dead = `${topic}-dead`;
      const { app } = await subscriber(`app-${unique()}`, [
        { pubsubname: ps, topic, route: '/in', deadLetterTopic: dead },
        { pubsubname: ps, topic: dead, route: '/dead' },
      ]);
      app.reply((d) => {
        if (d.path === '/dead') return { json: { status: 'SUCCESS' } };
        return (dataOf(d.body) as { mode: string }).mode === 'drop' ? { json: { status: 'DROP' } } : { status: 503 };
      });
      const pub = await publisher();
      await publish(pub.baseUrl, ps, topic, { mode: 'drop' });
      await publish(pub.baseUrl, ps, topic, { mode: 'fail' });
      await app.waitFor((d) => d.filter((x) => x.path === '/dead').length === 2);
      expect(app.at('/dead').map((d) => (dataOf(d.body) as { mode: string }).mode).sort()).toEqual(['drop', 'fail']);
      expect(app.at('/in').filter((d) => (dataOf(d.body) as { mode: string }).mode === 'fail')).toHaveLength(3);
    });

    const large = config.capabilities.largeMessage;
    it(`carries a ${large ? `${large.bytes}-byte` : '1 MB'} event intact`, async (ctx) => {
      if (!enabled) return ctx.skip();
      if (large) console.warn(`${config.type}: large message test uses ${large.bytes} bytes: ${large.reason}`);
      const topic = `big-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [{ pubsubname: ps, topic, route: '/in' }]);
      const pub = await publisher();
      const big = 'x'.repeat(large?.bytes ?? 1024 * 1024);
      expect(await publish(pub.baseUrl, ps, topic, { big })).toBe(204);
      await app.waitFor((d) => d.length === 1);
      expect((dataOf(app.deliveries[0]!.body) as { big: string }).big).toBe(big);
    });

    it('bulk-publishes entries and bulk-delivers them with per-entry statuses', async (ctx) => {
      if (!enabled) return ctx.skip();
      const topic = `bulk-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [
        { pubsubname: ps, topic, route: '/bulk', bulkSubscribe: { enabled: true, maxMessagesCount: 5, maxAwaitDurationMs: 200 } },
      ]);
      const seen = new Set<number>();
      app.reply((d) => {
        const entries = (d.body as { entries: { entryId: string; event: { data: { n: number } } }[] }).entries;
        // Each entry is RETRY the first time it is seen, then SUCCESS.
        return {
          json: {
            statuses: entries.map((e) => {
              const first = !seen.has(e.event.data.n);
              seen.add(e.event.data.n);
              return { entryId: e.entryId, status: first && e.event.data.n === 0 ? 'RETRY' : 'SUCCESS' };
            }),
          },
        };
      });
      const pub = await publisher();
      const entries = Array.from({ length: 8 }, (_, n) => ({ entryID: `e${n}`, event: { n }, contentType: 'application/json' }));
      const res = await fetch(`${pub.baseUrl}/v1.0-alpha1/publish/bulk/${ps}/${topic}`, {
        method: 'POST',
        body: JSON.stringify(entries),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(204);
      const delivered = () =>
        app.deliveries.flatMap((d) => (d.body as { entries: { event: { data: { n: number } } }[] }).entries.map((e) => e.event.data.n));
      await app.waitFor(() => new Set(delivered()).size === 8 && delivered().filter((n) => n === 0).length === 2);
      expect(app.deliveries[0]!.headers['content-type']).toBe('application/json');
      expect((app.deliveries[0]!.body as { type: string }).type).toBe('com.dapr.event.sent.bulk');
    });

    it('delivers in publish order to a subscriber with concurrency 1', async (ctx) => {
      if (!enabled) return ctx.skip();
      if (!config.capabilities.ordered) return ctx.skip();
      const topic = `order-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [{ pubsubname: ps, topic, route: '/in', metadata: { concurrency: '1' } }]);
      const pub = await publisher();
      for (let n = 0; n < 20; n++) await publish(pub.baseUrl, ps, topic, n);
      await app.waitFor((d) => d.length === 20);
      expect(app.deliveries.map((d) => dataOf(d.body))).toEqual(Array.from({ length: 20 }, (_, n) => n));
    });

    it('shares messages between two instances of one app id and gives every message to each app id', async (ctx) => {
      if (!enabled) return ctx.skip();
      const groups = config.capabilities.consumerGroups ?? true;
      if (groups !== true) {
        console.warn(`skipped for ${config.type}: ${groups}`);
        return ctx.skip();
      }
      const topic = `groups-${unique()}`;
      const sub = [{ pubsubname: ps, topic, route: '/in', metadata: { concurrency: '1' } }];
      const shared = `shared-${unique()}`;
      const a1 = await subscriber(shared, sub);
      const a2 = await subscriber(shared, sub);
      const b = await subscriber(`other-${unique()}`, sub);
      // Slow answers so both instances of the shared app get work.
      for (const s of [a1, a2]) s.app.reply(() => ({ json: { status: 'SUCCESS' }, delayMs: 20 }));
      const pub = await publisher();
      for (let n = 0; n < 20; n++) await publish(pub.baseUrl, ps, topic, n);
      await b.app.waitFor((d) => d.length === 20);
      await a1.app.waitFor(() => a1.app.deliveries.length + a2.app.deliveries.length >= 20);
      const sharedData = [...a1.app.deliveries, ...a2.app.deliveries].map((d) => dataOf(d.body) as number).sort((x, y) => x - y);
      expect(sharedData).toEqual(Array.from({ length: 20 }, (_, n) => n));
      expect(a1.app.deliveries.length).toBeGreaterThan(0);
      expect(a2.app.deliveries.length).toBeGreaterThan(0);
      expect(b.app.deliveries.map((d) => dataOf(d.body) as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    });

    it('matches + and # wildcards in subscription topics', async (ctx) => {
      if (!enabled || !config.capabilities.wildcards) return ctx.skip();
      const root = `wild-${unique()}`;
      const { app } = await subscriber(`app-${unique()}`, [
        { pubsubname: ps, topic: `${root}/+/temp`, route: '/plus' },
        { pubsubname: ps, topic: `${root}/#`, route: '/hash' },
      ]);
      const pub = await publisher();
      await publish(pub.baseUrl, ps, `${root}/kitchen/temp`, { t: 21 });
      await publish(pub.baseUrl, ps, `${root}/kitchen/light/level`, { l: 3 });
      await app.waitFor((d) => d.filter((x) => x.path === '/hash').length === 2 && d.some((x) => x.path === '/plus'));
      expect(app.at('/plus').map((d) => dataOf(d.body))).toEqual([{ t: 21 }]);
      expect(app.at('/hash').map((d) => dataOf(d.body))).toEqual(expect.arrayContaining([{ t: 21 }, { l: 3 }]));
    });

    it('delivers every message after the subscriber sidecar is killed mid-stream and restarted', async (ctx) => {
      if (!enabled) return ctx.skip();
      if (config.capabilities.survivesCrash !== true) {
        console.warn(`skipped for ${config.type}: ${config.capabilities.survivesCrash}`);
        return ctx.skip();
      }
      const topic = `crash-${unique()}`;
      const resources = path.join(dir, `crash-${unique()}`);
      await fs.mkdir(resources);
      await fs.writeFile(path.join(resources, 'pubsub.yaml'), config.component(ps, dir));
      const app = await startSubscriberApp([{ pubsubname: ps, topic, route: '/in', metadata: { concurrency: '2' } }], await freePort());
      cleanups.push(() => app.close());
      // Until the kill, the app takes every delivery and never answers: the messages in flight are
      // unacknowledged when the sidecar dies, and must come back after the restart.
      let crashed = false;
      app.reply(() => (crashed ? { json: { status: 'SUCCESS' }, delayMs: 5 } : { hang: true }));
      const crashApp = `crash-${unique()}`;
      used.groups.add(crashApp);
      used.topics.add(topic);
      const args = ['--app-id', crashApp, '--app-port', String(app.port), '--resources-path', resources, '--log-level', 'warn'];
      const env = { ...FAST_ENV };
      let weft: WeftProcess = await startWeftSidecar(args, { env, cwd: dir });
      cleanups.push(() => weft.stop());
      await waitSubscribed(`http://127.0.0.1:${weft.httpPort}`, 1);
      const pub = await publisher();
      const total = 30;
      for (let n = 0; n < total; n++) await publish(pub.baseUrl, ps, topic, n);
      await app.waitFor((d) => d.length >= 2);
      weft.child.kill('SIGKILL');
      await weft.stop();
      crashed = true;
      const before = app.deliveries.length;
      const inFlight = app.deliveries.map((d) => dataOf(d.body));
      weft = await startWeftSidecar(args, { env, cwd: dir });
      cleanups.push(() => weft.stop());
      const after = () => new Set(app.deliveries.slice(before).map((x) => dataOf(x.body)));
      await app.waitFor(() => after().size === total, 30_000);
      for (const n of inFlight) expect(after().has(n)).toBe(true);
    });
  });
}
