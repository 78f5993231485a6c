/**
 * The embedded default store across real processes: two `weft sidecar` processes on one data
 * directory share it safely, and values survive a restart.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

async function increment(base: string, key: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const current = await fetch(`${base}/v1.0/state/statestore/${key}`);
    const etag = current.headers.get('etag') ?? undefined;
    const value = current.status === 200 ? (JSON.parse(await current.text()) as number) : 0;
    const item = etag ? { key, value: value + 1, etag } : { key, value: value + 1, options: { concurrency: 'first-write' } };
    const saved = await fetch(`${base}/v1.0/state/statestore`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([item]),
    });
    if (saved.status === 204) return attempt;
    expect(saved.status).toBe(409);
    await saved.arrayBuffer();
  }
}

describe('embedded SQLite store shared by several weft processes', () => {
  let dataDir: string;
  let first: WeftProcess;
  let second: WeftProcess;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-embedded-'));
    [first, second] = await Promise.all([
      startWeftSidecar(['--app-id', 'shared', '--data-dir', dataDir]),
      startWeftSidecar(['--app-id', 'shared', '--data-dir', dataDir]),
    ]);
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('loses no update when two processes increment one key concurrently with etags', async () => {
    const bases = [first, second].map((p) => `http://127.0.0.1:${p.httpPort}`);
    const perProcess = 15;
    const attempts = await Promise.all(
      Array.from({ length: perProcess * 2 }, (_, i) => increment(bases[i % 2] as string, 'counter')),
    );
    const final = await fetch(`${bases[0]}/v1.0/state/statestore/counter`);
    expect(JSON.parse(await final.text())).toBe(perProcess * 2);
    // Contention must actually have happened for the test to mean anything.
    expect(attempts.some((a) => a > 1)).toBe(true);
  });

  it('keeps a saved value after the process that saved it restarts', async () => {
    const base = `http://127.0.0.1:${first.httpPort}`;
    const saved = await fetch(`${base}/v1.0/state/statestore`, {
      method: 'POST',
      body: JSON.stringify([{ key: 'durable', value: { kept: true } }]),
    });
    expect(saved.status).toBe(204);
    expect(await first.stop()).toBe(0);
    first = await startWeftSidecar(['--app-id', 'shared', '--data-dir', dataDir]);
    const read = await fetch(`http://127.0.0.1:${first.httpPort}/v1.0/state/statestore/durable`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ kept: true });
  });

  it('prints the app id, ports, components and data path in the start-up banner', () => {
    const out = first.output();
    expect(out).toContain('app id "shared"');
    expect(out).toContain(`http://127.0.0.1:${first.httpPort}`);
    expect(out).toContain('component statestore (state.sqlite/v1) from embedded default');
    expect(out).toContain(`data: ${dataDir}`);
  });
});
