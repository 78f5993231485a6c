/**
 * The configuration conformance suite: one set of cases run against every `configuration.*` driver,
 * component-level (get and watch on the driver built from YAML, items written with the backing
 * system's own client) and through an in-process sidecar whose HTTP app receives the updates. Keys
 * are unique per test, so stores shared with other suites (Redis) do not disturb the cases.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigurationItem, ConfigurationStore, ConfigurationWatch } from '../../../packages/runtime/src/components/configuration/store.js';
import { startTestSidecar } from '../../support/in-process.js';
import { startRecordingApp } from '../../support/recording-app.js';
import { initComponent } from '../driver-context.js';

/** Writes items the way an operator would, outside the sidecar. */
export interface ConfigurationWriter {
  set(key: string, value: string, version: string, metadata?: Record<string, string>): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** One driver's entry in the suite. */
export interface ConfigurationConformanceConfig {
  type: string;
  /** Component YAML for a component named `name`; `dir` is a per-suite temp directory. */
  component(name: string, dir: string): string;
  /** A writer on the same backing store (`dir` as for `component`). */
  writer(dir: string): Promise<ConfigurationWriter>;
  /** Whether item metadata is stored (Redis keeps value and version only). */
  storesMetadata: boolean;
  /** Metadata a subscription needs (Postgres: `pgNotifyChannel`). */
  subscribeMetadata?: Record<string, string>;
  /** Decides whether the suite runs (a `requireService` call); defaults to true. */
  enabled?: () => Promise<boolean>;
  /** Removes what the suite left behind. */
  cleanup?: () => Promise<void>;
}

const unique = () => Math.random().toString(36).slice(2, 10);

/** Collected change notifications of one watch. */
class Changes {
  readonly seen: Record<string, ConfigurationItem>[] = [];
  private waiters: (() => void)[] = [];
  readonly handler = (items: Record<string, ConfigurationItem>) => {
    this.seen.push(items);
    for (const w of this.waiters.splice(0)) w();
  };
  /** Resolves once `check` holds for the changes seen so far. */
  async until(check: (seen: Record<string, ConfigurationItem>[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.seen)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.seen)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  /** The latest item seen for `key`. */
  last(key: string): ConfigurationItem | undefined {
    return this.seen.filter((s) => key in s).at(-1)?.[key];
  }
}

/** Registers the suite for one driver. */
export function configurationConformance(config: ConfigurationConformanceConfig): void {
  describe(`configuration conformance: ${config.type}`, () => {
    let enabled = true;
    let dir = '';
    let writer: ConfigurationWriter;
    const name = `cfg${unique()}`;
    const cleanups: (() => Promise<unknown>)[] = [];
    const meta = config.subscribeMetadata ?? {};

    beforeAll(async () => {
      enabled = config.enabled ? await config.enabled() : true;
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-cfgconf-'));
      if (enabled) {
        // The driver creates its table first; the writer then finds it.
        const first = await initComponent<ConfigurationStore>(config.component(name, dir), dir);
        await first.close();
        writer = await config.writer(dir);
      }
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    });
    afterAll(async () => {
      if (enabled) {
        await writer?.close();
        await config.cleanup?.().catch(() => undefined);
      }
      await fs.rm(dir, { recursive: true, force: true });
    });

    async function store(): Promise<ConfigurationStore> {
      const s = await initComponent<ConfigurationStore>(config.component(name, dir), dir);
      cleanups.push(() => s.close());
      return s;
    }

    async function watch(s: ConfigurationStore, keys: string[]): Promise<{ changes: Changes; watch: ConfigurationWatch }> {
      const changes = new Changes();
      const w = await s.watch({ keys, metadata: meta }, changes.handler);
      cleanups.push(() => w.close());
      return { changes, watch: w };
    }

    it('reads items by key with their value and version, and leaves out keys that do not exist', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      await writer.set(`${p}.a`, 'alpha', '1', { team: 'x' });
      await writer.set(`${p}.b`, 'beta', '7');
      const s = await store();
      const items = await s.get({ keys: [`${p}.a`, `${p}.b`, `${p}.missing`], metadata: {} });
      expect(Object.keys(items).sort()).toEqual([`${p}.a`, `${p}.b`]);
      expect(items[`${p}.a`]).toEqual({ value: 'alpha', version: '1', metadata: config.storesMetadata ? { team: 'x' } : {} });
      expect(items[`${p}.b`]).toEqual({ value: 'beta', version: '7', metadata: {} });
    });

    it('reads every item when no key is given', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      await writer.set(`${p}.one`, '1', 'v1');
      await writer.set(`${p}.two`, '2', 'v1');
      const s = await store();
      const items = await s.get({ keys: [], metadata: {} });
      expect(items).toMatchObject({ [`${p}.one`]: { value: '1', version: 'v1' }, [`${p}.two`]: { value: '2', version: 'v1' } });
    });

    it('tells a watch of some keys about their updates and deletions, in order, and nothing about other keys', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      await writer.set(`${p}.w`, 'start', '1');
      const s = await store();
      const { changes } = await watch(s, [`${p}.w`, `${p}.new`]);
      await writer.set(`${p}.other`, 'ignored', '1');
      await writer.set(`${p}.w`, 'second', '2');
      await writer.set(`${p}.new`, 'created', '1');
      await changes.until((seen) => seen.some((c) => c[`${p}.new`]?.value === 'created'), 'the new key');
      expect(changes.last(`${p}.w`)).toMatchObject({ value: 'second', version: '2' });
      await writer.delete(`${p}.w`);
      await changes.until(() => changes.last(`${p}.w`)?.value === '', 'the deletion');
      expect(changes.last(`${p}.w`)).toEqual({ value: '', version: '', metadata: {} });
      expect(changes.seen.flatMap((c) => Object.keys(c)).filter((k) => k === `${p}.other`)).toEqual([]);
      const order = changes.seen.flatMap((c) => Object.entries(c)).filter(([k]) => k === `${p}.w`).map(([, v]) => v.value);
      expect(order).toEqual(['second', '']);
    });

    it('tells a watch of all keys about a change to any key', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      const s = await store();
      const { changes } = await watch(s, []);
      await writer.set(`${p}.any`, 'seen', '3');
      await changes.until(() => changes.last(`${p}.any`)?.value === 'seen', 'the change');
      expect(changes.last(`${p}.any`)).toMatchObject({ value: 'seen', version: '3' });
    });

    it('stops telling a watch once it is closed, while other watches go on', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      const s = await store();
      const closed = await watch(s, [`${p}.c`]);
      const open = await watch(s, [`${p}.c`]);
      await closed.watch.close();
      await writer.set(`${p}.c`, 'after', '1');
      await open.changes.until(() => open.changes.last(`${p}.c`)?.value === 'after', 'the open watch to see the change');
      expect(closed.changes.seen).toEqual([]);
    });

    it('through the sidecar: GET answers the items, a subscription POSTs the current values to the app, then each change, until unsubscribed', async (ctx) => {
      if (!enabled) return ctx.skip();
      const p = `k${unique()}`;
      await writer.set(`${p}.s`, 'now', '1');
      const app = await startRecordingApp({ [`/configuration/${name}/${p}.s`]: { status: 200 } });
      cleanups.push(() => app.close());
      const side = await startTestSidecar({ resources: [config.component(name, dir)], appPort: app.port });
      cleanups.push(() => side.stop());
      const got = await fetch(`${side.baseUrl}/v1.0/configuration/${name}?key=${p}.s&key=${p}.none`);
      expect(got.status).toBe(200);
      expect(await got.json()).toEqual({ [`${p}.s`]: { value: 'now', version: '1' } });
      const metaQuery = Object.entries(meta).map(([k, v]) => `&metadata.${k}=${v}`).join('');
      const sub = await fetch(`${side.baseUrl}/v1.0/configuration/${name}/subscribe?key=${p}.s${metaQuery}`);
      expect(sub.status).toBe(200);
      const { id } = (await sub.json()) as { id: string };
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const bodies = () => app.received('POST', `/configuration/${name}/${p}.s`).map((r) => JSON.parse(r.body) as unknown);
      const until = async (n: number) => {
        const deadline = Date.now() + 10_000;
        while (bodies().length < n) {
          if (Date.now() > deadline) throw new Error(`expected ${n} updates, got ${JSON.stringify(bodies())}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until(1);
      expect(bodies()[0]).toEqual({ id, items: { [`${p}.s`]: { value: 'now', version: '1' } } });
      await writer.set(`${p}.s`, 'later', '2');
      await until(2);
      expect(bodies()[1]).toEqual({ id, items: { [`${p}.s`]: { value: 'later', version: '2' } } });
      const unsub = await fetch(`${side.baseUrl}/v1.0/configuration/${name}/${id}/unsubscribe`);
      expect(await unsub.json()).toEqual({ ok: true });
      const again = await fetch(`${side.baseUrl}/v1.0-alpha1/configuration/${name}/${id}/unsubscribe`);
      expect(again.status).toBe(500);
      expect(await again.json()).toEqual({ message: `failed to unsubscribe to configuration request ${id}: subscription with id ${id} does not exist` });
    });
  });
}
