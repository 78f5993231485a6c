/**
 * Conformance cases for the state query API (alpha1): EQ, NEQ, IN, comparisons, AND/OR, sorting,
 * paging with a token, and 204 for no results. The cases run in a sidecar of their own app id, so
 * the seeded documents are the only keys in scope. Drivers without QUERY_API must answer
 * 500 ERR_STATE_STORE_NOT_SUPPORTED, which is checked instead.
 */
import { beforeAll, expect, it } from 'vitest';
import type { StateStore } from '../../src/components/state/store.js';
import { hasCapability } from './state-drivers.js';
import { casesRequiring, errorCode } from './state-harness.js';
import type { DriverRun, StateApi } from './state-harness.js';

/** The seeded documents, after Dapr's query API docs example. */
const PEOPLE: Record<string, { person: { org: string; id: number }; city: string; state: string }> = {
  p1: { person: { org: 'Dev Ops', id: 1036 }, city: 'Seattle', state: 'WA' },
  p2: { person: { org: 'Hardware', id: 1028 }, city: 'Portland', state: 'OR' },
  p3: { person: { org: 'Finance', id: 1071 }, city: 'Sacramento', state: 'CA' },
  p4: { person: { org: 'Dev Ops', id: 1042 }, city: 'Spokane', state: 'WA' },
  p5: { person: { org: 'Hardware', id: 1007 }, city: 'Los Angeles', state: 'CA' },
  p6: { person: { org: 'Dev Ops', id: 1015 }, city: 'San Francisco', state: 'CA' },
};

interface QueryBody {
  results: { key: string; data: unknown; etag: string }[];
  token?: string;
}

async function keysOf(api: StateApi, query: unknown): Promise<string[]> {
  const res = await api.query(query);
  if (res.status === 204) return [];
  expect(res.status).toBe(200);
  return (res.json as QueryBody).results.map((r) => r.key);
}

/** Registers the query cases; call inside a `describe` of their own (they seed in `beforeAll`). */
export function queryCases(run: DriverRun): void {
  if (!hasCapability(run.driver, 'QUERY_API')) {
    it('answers the query API with 500 ERR_STATE_STORE_NOT_SUPPORTED, as it declares no QUERY_API', async () => {
      const res = await run.api.query({ filter: { EQ: { state: 'CA' } } });
      expect(res.status).toBe(500);
      expect(errorCode(res)).toBe('ERR_STATE_STORE_NOT_SUPPORTED');
    });
  }
  const query = casesRequiring(run, 'QUERY_API');
  let api: StateApi;
  let store: StateStore;
  beforeAll(async () => {
    if (!hasCapability(run.driver, 'QUERY_API')) return;
    const started = await run.startSidecar(`q-${run.runId}`, run.storeName);
    api = started.api;
    const instance = started.sidecar.sidecar.components.stateStore(run.storeName);
    if (!instance) throw new Error('query sidecar has no state store');
    store = instance;
    const res = await api.save(Object.entries(PEOPLE).map(([key, value]) => ({ key, value })));
    expect(res.status).toBe(204);
  });

  query('returns every key of the app, ordered by key, for an empty filter', async () => {
    expect(await keysOf(api, { filter: {} })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  query('returns key, data and the current etag for each EQ match', async () => {
    const res = await api.query({ filter: { EQ: { state: 'CA' } } });
    expect(res.status).toBe(200);
    const body = res.json as QueryBody;
    expect(body.results.map((r) => r.key)).toEqual(['p3', 'p5', 'p6']);
    expect(body.results[0]?.data).toEqual(PEOPLE['p3']);
    expect(body.results[0]?.etag).toBe((await api.read('p3')).etag);
    expect(body.token).toBeUndefined();
  });

  query('matches nested fields with EQ and excludes them with NEQ', async () => {
    expect(await keysOf(api, { filter: { EQ: { 'person.org': 'Dev Ops' } } })).toEqual(['p1', 'p4', 'p6']);
    expect(await keysOf(api, { filter: { NEQ: { 'person.org': 'Dev Ops' } } })).toEqual(['p2', 'p3', 'p5']);
    expect(await keysOf(api, { filter: { EQ: { 'person.id': 1028 } } })).toEqual(['p2']);
  });

  query('matches any listed value with IN', async () => {
    expect(await keysOf(api, { filter: { IN: { state: ['CA', 'OR'] } } })).toEqual(['p2', 'p3', 'p5', 'p6']);
  });

  query('compares numbers with GT, GTE, LT and LTE', async () => {
    expect(await keysOf(api, { filter: { GT: { 'person.id': 1036 } } })).toEqual(['p3', 'p4']);
    expect(await keysOf(api, { filter: { GTE: { 'person.id': 1036 } } })).toEqual(['p1', 'p3', 'p4']);
    expect(await keysOf(api, { filter: { LT: { 'person.id': 1015 } } })).toEqual(['p5']);
    expect(await keysOf(api, { filter: { LTE: { 'person.id': 1015 } } })).toEqual(['p5', 'p6']);
  });

  query('combines filters with AND and OR', async () => {
    const filter = {
      OR: [{ EQ: { 'person.org': 'Finance' } }, { AND: [{ EQ: { 'person.org': 'Dev Ops' } }, { IN: { state: ['CA', 'OR'] } }] }],
    };
    expect(await keysOf(api, { filter })).toEqual(['p3', 'p6']);
  });

  query('sorts DESC and by several keys', async () => {
    expect(await keysOf(api, { sort: [{ key: 'person.id', order: 'DESC' }] })).toEqual(['p3', 'p4', 'p1', 'p2', 'p6', 'p5']);
    expect(await keysOf(api, { sort: [{ key: 'state' }, { key: 'person.id', order: 'DESC' }] })).toEqual(['p3', 'p6', 'p5', 'p2', 'p4', 'p1']);
  });

  query('pages with limit and token, and omits the token on the last page', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const res = await api.query({ sort: [{ key: 'person.id' }], page: { limit: 2, ...(token ? { token } : {}) } });
      expect(res.status).toBe(200);
      const body = res.json as QueryBody;
      pages.push(body.results.map((r) => r.key));
      token = body.token;
    } while (token && pages.length < 10);
    expect(pages).toEqual([
      ['p5', 'p6'],
      ['p2', 'p1'],
      ['p4', 'p3'],
    ]);
  });

  query('returns 204 when nothing matches', async () => {
    const res = await api.query({ filter: { EQ: { state: 'TX' } } });
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
  });

  query('rejects an unknown filter operator with 400 ERR_MALFORMED_REQUEST', async () => {
    const res = await api.query({ filter: { LIKE: { state: 'C%' } } });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('ERR_MALFORMED_REQUEST');
  });

  query('never matches a value that is not JSON with a filter, but returns it unfiltered', async () => {
    // Only the gRPC API saves raw bytes; write them at the store level under this app's prefix.
    const raw = `q-${run.runId}||zz-raw`;
    await store.set({ key: raw, value: Buffer.from([0xff, 0x00, 0x7b]) });
    try {
      expect(await keysOf(api, { filter: { NEQ: { state: 'nowhere' } } })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
      expect(await keysOf(api, { filter: {} })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'zz-raw']);
    } finally {
      await store.delete({ key: raw });
    }
  });
}
