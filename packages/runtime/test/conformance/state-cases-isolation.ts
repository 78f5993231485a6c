/**
 * Conformance cases for key prefixes: app ids sharing one store see only their own keys by default,
 * and `keyPrefix: none | name | <custom>` store keys as Dapr does (`appid||key`, `key`,
 * `name||key`, `custom||key`), checked at the store level and, where two sidecars can share the
 * backend, between two app ids.
 */
import { expect, it } from 'vitest';
import { hasCapability } from './state-drivers.js';
import { casesRequiring, expectJsonBack } from './state-harness.js';
import type { DriverRun } from './state-harness.js';

interface PrefixCase {
  strategy: string;
  /** The `keyPrefix` value (a fresh custom prefix for the custom case). */
  value(run: DriverRun): string;
  /** The component name both sidecars use. */
  componentName(run: DriverRun): string;
  /** The stored key for a user key. */
  storedKey(run: DriverRun, componentName: string, key: string): string;
}

const PREFIX_CASES: PrefixCase[] = [
  { strategy: 'none', value: () => 'none', componentName: () => 'store', storedKey: (_run, _name, key) => key },
  { strategy: 'name', value: () => 'name', componentName: (run) => `named-${run.runId}`, storedKey: (_run, name, key) => `${name}||${key}` },
  {
    strategy: 'a custom prefix',
    value: (run) => `custom-${run.runId}`,
    componentName: () => 'store',
    storedKey: (run, _name, key) => `custom-${run.runId}||${key}`,
  },
];

/** Registers the key-prefix cases. */
export function isolationCases(run: DriverRun): void {
  it('stores a key as <appId>||<key> by default', async () => {
    const key = run.key('layout');
    await run.api.save([{ key, value: 'v' }]);
    const item = await run.store.get({ key: `${run.appId}||${key}` });
    expect(item?.value.toString()).toBe('"v"');
    expect(await run.store.get({ key })).toBeUndefined();
  });

  for (const prefix of PREFIX_CASES) {
    it(`stores keys under keyPrefix ${prefix.strategy} as Dapr lays them out, and ${
      hasCapability(run.driver, 'SHARED_BACKEND') ? 'shares them between app ids' : 'reads them back'
    }`, async () => {
      const name = prefix.componentName(run);
      const key = `k-${run.runId}`;
      const a = await run.startSidecar(`pa-${run.runId}`, name, { keyPrefix: prefix.value(run) });
      expect((await a.api.save([{ key, value: { by: 'a' } }])).status).toBe(204);
      const store = a.sidecar.sidecar.components.stateStore(name);
      const item = await store?.get({ key: prefix.storedKey(run, name, key) });
      expectJsonBack(run, item?.value ?? Buffer.alloc(0), { by: 'a' });
      if (hasCapability(run.driver, 'SHARED_BACKEND')) {
        const b = await run.startSidecar(`pb-${run.runId}`, name, { keyPrefix: prefix.value(run) });
        expect((await b.api.read(key)).value).toEqual({ by: 'a' });
        expect((await b.api.delete(key)).status).toBe(204);
        expect((await a.api.get(key)).status).toBe(204);
      } else {
        expect((await a.api.read(key)).value).toEqual({ by: 'a' });
      }
    });
  }

  const shared = casesRequiring(run, 'SHARED_BACKEND');
  shared('keeps the keys of two app ids sharing one store apart', async () => {
    const other = await run.startSidecar(`other-${run.runId}`, run.storeName);
    const key = run.key('iso');
    await run.api.save([{ key, value: 'mine' }]);
    expect((await other.api.get(key)).status).toBe(204);
    await other.api.save([{ key, value: 'theirs' }]);
    expect((await run.api.read(key)).value).toBe('mine');
    expect((await other.api.read(key)).value).toBe('theirs');
    const bulk = await other.api.bulkGet([key]);
    expect(bulk.json).toEqual([expect.objectContaining({ key, data: 'theirs' })]);
    expect((await other.api.delete(key)).status).toBe(204);
    expect((await run.api.read(key)).value).toBe('mine');
    if (hasCapability(run.driver, 'QUERY_API')) {
      await other.api.save([{ key: 'only-other', value: { owner: 'other' } }]);
      const res = await other.api.query({ filter: {} });
      expect((res.json as { results: { key: string }[] }).results.map((r) => r.key)).toEqual(['only-other']);
    }
  });

  shared('keeps sidecars with different app ids consistent on one key under keyPrefix none', async () => {
    const a = await run.startSidecar(`ca-${run.runId}`, 'store', { keyPrefix: 'none' });
    const b = await run.startSidecar(`cb-${run.runId}`, 'store', { keyPrefix: 'none' });
    const key = `shared-counter-${run.runId}`;
    await a.api.save([{ key, value: 0 }]);
    const bump = async (api: typeof a.api) => {
      for (;;) {
        const { value, etag } = await api.read<number>(key);
        const res = await api.save([{ key, value: value + 1, etag }]);
        if (res.status === 204) return;
        expect(res.status).toBe(409);
      }
    };
    await Promise.all([...Array.from({ length: 5 }, () => bump(a.api)), ...Array.from({ length: 5 }, () => bump(b.api))]);
    expect((await a.api.read<number>(key)).value).toBe(10);
  });
}
