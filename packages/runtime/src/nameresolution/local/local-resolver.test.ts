import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppNotFoundError } from '../resolver.js';
import type { SelfRegistration } from '../resolver.js';
import { LocalResolver, listRegistry, registryDir } from './local-resolver.js';

const self = (appId: string, internalPort: number, pid = process.pid): SelfRegistration => ({
  appId,
  namespace: '',
  host: '127.0.0.1',
  internalPort,
  httpPort: 1,
  grpcPort: 2,
  pid,
});

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', '0']);
  return result.pid as number;
}

describe('LocalResolver', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-ns-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds a sidecar registered by another resolver on the same directory', async () => {
    const callee = new LocalResolver({ dir });
    await callee.register(self('orders', 4100));
    const caller = new LocalResolver({ dir });
    await expect(caller.resolve('orders')).resolves.toEqual({ host: '127.0.0.1', port: 4100, grpcPort: 2 });
    await callee.close();
    await expect(caller.resolve('orders')).rejects.toBeInstanceOf(AppNotFoundError);
  });

  it('ignores and deletes the entry of a dead process', async () => {
    const dead = new LocalResolver({ dir });
    await dead.register(self('billing', 4200, deadPid()));
    const caller = new LocalResolver({ dir });
    await expect(caller.resolve('billing')).rejects.toThrow("couldn't find service: billing");
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('alternates between live instances of one app id and accepts app-id.default', async () => {
    const a = new LocalResolver({ dir });
    const b = new LocalResolver({ dir });
    await a.register(self('cart', 4301));
    await b.register(self('cart', 4302));
    const caller = new LocalResolver({ dir });
    const ports = new Set([(await caller.resolve('cart')).port, (await caller.resolve('cart.default')).port]);
    expect(ports).toEqual(new Set([4301, 4302]));
  });

  it('publishes updated attributes for listing', async () => {
    const r = new LocalResolver({ dir });
    await r.register(self('lister', 4400));
    await r.update({ command: 'node app.js' });
    const [entry] = await listRegistry(dir);
    expect(entry?.extra).toEqual({ command: 'node app.js' });
    expect(entry?.created).toMatch(/^\d{4}-/);
  });

  it('takes its directory from WEFT_REGISTRY_DIR', () => {
    expect(registryDir({ WEFT_REGISTRY_DIR: dir })).toBe(dir);
    expect(registryDir({})).toContain('weft-registry-');
  });
});
