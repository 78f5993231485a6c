/**
 * The lock conformance suite: one set of cases run against every `lock.*` driver, component-level
 * (the driver built from YAML, several instances standing in for several sidecars) and through real
 * `weft sidecar` processes contending for one resource over HTTP. A driver that cannot share locks
 * across processes says why, and the process case is skipped with that reason (STYLE.md #4).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LockStore } from '../../../packages/runtime/src/components/lock/store.js';
import { UnlockStatus } from '../../../packages/runtime/src/components/lock/store.js';
import { startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';
import { initComponent } from '../driver-context.js';

/** One driver's entry in the suite. */
export interface LockConformanceConfig {
  type: string;
  /** Component YAML for a component named `name`; `dir` is a per-suite temp directory. */
  component(name: string, dir: string): string;
  /** `true`, or why locks are not shared between processes (then the process case is skipped). */
  sharedAcrossProcesses: true | string;
  /** Decides whether the suite runs (a `requireService` call); defaults to true. */
  enabled?: () => Promise<boolean>;
  /** Removes what the suite left behind (tables, keys). */
  cleanup?: () => Promise<void>;
}

const unique = () => Math.random().toString(36).slice(2, 10);

/** Polls `check` every 50 ms until it is true; fails after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers the suite for one driver. */
export function lockConformance(config: LockConformanceConfig): void {
  describe(`lock conformance: ${config.type}`, () => {
    let enabled = true;
    let dir = '';
    const name = `lock${unique()}`;
    const open: LockStore[] = [];
    const processes: WeftProcess[] = [];

    beforeAll(async () => {
      enabled = config.enabled ? await config.enabled() : true;
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-lockconf-'));
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await Promise.all(processes.splice(0).map((p) => p.stop()));
    });
    afterAll(async () => {
      if (enabled) await config.cleanup?.().catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    });

    async function store(): Promise<LockStore> {
      const s = await initComponent<LockStore>(config.component(name, dir), dir);
      open.push(s);
      return s;
    }

    it('gives a free lock to the first owner and refuses every later try while it is held, the same owner included', async (ctx) => {
      if (!enabled) return ctx.skip();
      const s = await store();
      const key = `res-${unique()}`;
      expect(await s.tryLock({ key, owner: 'a', expiryInSeconds: 30 })).toBe(true);
      expect(await s.tryLock({ key, owner: 'b', expiryInSeconds: 30 })).toBe(false);
      expect(await s.tryLock({ key, owner: 'a', expiryInSeconds: 30 })).toBe(false);
      expect(await s.tryLock({ key: `${key}-other`, owner: 'b', expiryInSeconds: 30 })).toBe(true);
    });

    it('answers unlock with 2 for another owner, 0 for the owner, then 1 once released; a released lock can be taken again', async (ctx) => {
      if (!enabled) return ctx.skip();
      const s = await store();
      const key = `res-${unique()}`;
      expect(await s.unlock(key, 'a')).toBe(UnlockStatus.LOCK_DOES_NOT_EXIST);
      expect(await s.tryLock({ key, owner: 'a', expiryInSeconds: 30 })).toBe(true);
      expect(await s.unlock(key, 'b')).toBe(UnlockStatus.LOCK_BELONGS_TO_OTHERS);
      expect(await s.unlock(key, 'a')).toBe(UnlockStatus.SUCCESS);
      expect(await s.unlock(key, 'a')).toBe(UnlockStatus.LOCK_DOES_NOT_EXIST);
      expect(await s.tryLock({ key, owner: 'b', expiryInSeconds: 30 })).toBe(true);
    });

    it('frees a lock when its expiry passes: another owner takes it and the first owner no longer holds it', async (ctx) => {
      if (!enabled) return ctx.skip();
      const s = await store();
      const key = `res-${unique()}`;
      expect(await s.tryLock({ key, owner: 'a', expiryInSeconds: 1 })).toBe(true);
      expect(await s.tryLock({ key, owner: 'b', expiryInSeconds: 30 })).toBe(false);
      await until(() => s.tryLock({ key, owner: 'b', expiryInSeconds: 30 }), 5000, 'the expired lock to be free');
      expect(await s.unlock(key, 'a')).toBe(UnlockStatus.LOCK_BELONGS_TO_OTHERS);
      expect(await s.unlock(key, 'b')).toBe(UnlockStatus.SUCCESS);
    });

    it('answers 1 when the owner unlocks a lock that expired and nobody took', async (ctx) => {
      if (!enabled) return ctx.skip();
      const s = await store();
      const key = `res-${unique()}`;
      expect(await s.tryLock({ key, owner: 'a', expiryInSeconds: 1 })).toBe(true);
      // Taken after the first with the same lifetime: once the probe is free, the first lock expired too.
      const probe = `${key}-probe`;
      expect(await s.tryLock({ key: probe, owner: 'p', expiryInSeconds: 1 })).toBe(true);
      await until(() => s.tryLock({ key: probe, owner: 'q', expiryInSeconds: 30 }), 5000, 'a 1-second lock to expire');
      expect(await s.unlock(key, 'a')).toBe(UnlockStatus.LOCK_DOES_NOT_EXIST);
    });

    it('lets exactly one of many concurrent owners take a lock (on separate connections when the store is shared)', async (ctx) => {
      if (!enabled) return ctx.skip();
      // A store that is not shared between instances is raced through one instance.
      const one = config.sharedAcrossProcesses === true ? undefined : await store();
      const stores = await Promise.all(Array.from({ length: 4 }, () => one ?? store()));
      for (let round = 0; round < 5; round++) {
        const key = `race-${unique()}`;
        const tries = stores.flatMap((s, i) => Array.from({ length: 5 }, (_, j) => s.tryLock({ key, owner: `o${i}-${j}`, expiryInSeconds: 30 })));
        const results = await Promise.all(tries);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('lets exactly one of several weft sidecar processes take a lock, round after round, through the HTTP API', async (ctx) => {
      if (!enabled) return ctx.skip();
      if (config.sharedAcrossProcesses !== true) {
        console.warn(`${config.type}: process contention case skipped: ${config.sharedAcrossProcesses}`);
        return ctx.skip();
      }
      const resources = path.join(dir, `res-${unique()}`);
      await fs.mkdir(resources);
      // keyPrefix "name": sidecars of different apps share `lock||<store>||<resource>`.
      const yaml = config.component(name, dir).replace(/metadata:\n(\s*)- /, (m, indent: string) => `metadata:\n${indent}- {name: keyPrefix, value: name}\n${indent}- `);
      await fs.writeFile(path.join(resources, 'lock.yaml'), yaml);
      const registry = path.join(dir, `reg-${unique()}`);
      for (let i = 0; i < 3; i++) {
        processes.push(await startWeftSidecar(['--app-id', `locker${i}-${unique()}`, '--resources-path', resources], { cwd: dir, env: { WEFT_REGISTRY_DIR: registry } }));
      }
      const post = async (p: WeftProcess, op: 'lock' | 'unlock', body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${p.httpPort}/v1.0-alpha1/${op}/${name}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        expect(res.status).toBe(200);
        return (await res.json()) as { success?: boolean; status?: number };
      };
      const resourceId = `shared-${unique()}`;
      for (let round = 0; round < 5; round++) {
        const attempts = processes.flatMap((p, i) =>
          Array.from({ length: 6 }, (_, j) => post(p, 'lock', { resourceId, lockOwner: `p${i}-${j}`, expiryInSeconds: 60 }).then((r) => ({ p, owner: `p${i}-${j}`, won: r.success === true }))),
        );
        const winners = (await Promise.all(attempts)).filter((a) => a.won);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        const other = processes.find((p) => p !== winner.p)!;
        expect(await post(other, 'unlock', { resourceId, lockOwner: 'someone-else' })).toEqual({ status: 2 });
        expect(await post(other, 'unlock', { resourceId, lockOwner: winner.owner })).toEqual({ status: 0 });
      }
    }, 60_000);
  });
}
