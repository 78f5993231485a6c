/**
 * Differential tests of the query translation: random filters, sorts and pages run both through
 * `buildQuerySql` on a real PostgreSQL table and through `evaluateQuery` (the in-memory reference)
 * over the same documents, and must return the same keys in the same order with the same token.
 * Generators stay inside the documented semantics (see `query-sql.ts` for the known differences).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { POSTGRES_URL, SERVICES, requireService } from '../../../../../../test/support/services.js';
import { silentLogger } from '../../../logging/logger.js';
import { evaluateQuery } from '../query.js';
import type { QueryFilter, StateQuery, StateQueryHit } from '../store.js';
import { PostgresStateStore } from './postgresql-store.js';

const run = await requireService(SERVICES.postgres, 'postgresql query translation');
const PREFIX = 'app||';
const RAW = Symbol('not JSON');

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, -1.5, 9, 10),
  fc.constantFrom('x', 'y', 'X', '10', '9', '', 'true', '[object Object]'),
  fc.boolean(),
  fc.constant(null),
);
// Objects have one key: JavaScript compares objects serialised, so key order would matter there.
const value = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ a: scalar }) },
);
const doc = fc.oneof(
  { weight: 10, arbitrary: fc.record({ a: value, b: value, c: fc.record({ a: value }, { requiredKeys: [] }) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: scalar },
  { weight: 1, arbitrary: fc.constant(RAW) },
);
const path = fc.constantFrom('a', 'b', 'c.a', 'a.a', 'c', 'missing', 'constructor');
const leaf = fc
  .tuple(fc.constantFrom('EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE'), path, value)
  .map(([op, p, v]) => ({ [op]: { [p]: v } }) as QueryFilter);
const inFilter = fc.tuple(path, fc.array(value, { minLength: 1, maxLength: 3 })).map(([p, vs]): QueryFilter => ({ IN: { [p]: vs } }));
const { filter } = fc.letrec<{ filter: QueryFilter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    inFilter,
    fc.array(tie('filter'), { minLength: 2, maxLength: 3 }).map((fs): QueryFilter => ({ AND: fs })),
    fc.array(tie('filter'), { minLength: 2, maxLength: 3 }).map((fs): QueryFilter => ({ OR: fs })),
  ),
}));

/** Documents for sorting: each sort field holds one type (or is missing), as sorting mixed types differs. */
const sortDoc = fc.record(
  { n: fc.integer({ min: -5, max: 5 }), s: fc.constantFrom('a', 'B', 'b', '10', '9', ''), t: fc.boolean() },
  { requiredKeys: [] },
);
const sortSpec = fc.uniqueArray(
  fc.record({ key: fc.constantFrom('n', 's', 't'), order: fc.constantFrom<'ASC' | 'DESC'>('ASC', 'DESC') }),
  { minLength: 1, maxLength: 3, selector: (s) => s.key },
);
const page = fc.record({ limit: fc.integer({ min: 0, max: 4 }), token: fc.integer({ min: 0, max: 12 }).map(String) }, { requiredKeys: [] });

function encode(d: unknown): Buffer {
  return d === RAW ? Buffer.from([0xff, 0x7b, 0x00]) : Buffer.from(JSON.stringify(d));
}

describe.skipIf(!run)('buildQuerySql against evaluateQuery', () => {
  const table = `weft_qsql_${Math.random().toString(36).slice(2, 10)}`;
  const stores: PostgresStateStore[] = [];
  let filterStore: PostgresStateStore;
  let sortStore: PostgresStateStore;
  const filterHits: StateQueryHit[] = [];
  const sortHits: StateQueryHit[] = [];

  async function open(suffix: string, docs: unknown[], hits: StateQueryHit[]): Promise<PostgresStateStore> {
    const store = new PostgresStateStore('v1');
    stores.push(store);
    await store.init(
      { connectionString: POSTGRES_URL, tableName: `${table}_${suffix}`, metadataTableName: `${table}_${suffix}_meta`, cleanupInterval: '0' },
      { name: 'q', appId: 'q', namespace: '', dataDir: '', logger: silentLogger(), env: {} },
    );
    for (const [i, d] of docs.entries()) {
      const key = `${PREFIX}k${String(i).padStart(3, '0')}`;
      await store.set({ key, value: encode(d) });
      const item = await store.get({ key });
      hits.push({ key, value: encode(d), etag: item?.etag ?? '' });
    }
    // Keys outside the prefix must never show up.
    await store.set({ key: 'other||k000', value: Buffer.from('{"a":1}') });
    return store;
  }

  async function expectSame(store: PostgresStateStore, hits: StateQueryHit[], generated: StateQuery): Promise<void> {
    // As the HTTP API would hand it over: plain JSON (fast-check builds null-prototype objects).
    const query = JSON.parse(JSON.stringify(generated)) as StateQuery;
    const expected = evaluateQuery(query, hits);
    const actual = await store.query(query, PREFIX);
    expect({ keys: actual.results.map((r) => r.key), token: actual.token }).toEqual({
      keys: expected.results.map((r) => r.key),
      token: expected.token,
    });
  }

  beforeAll(async () => {
    const docs = fc.sample(doc, { numRuns: 60, seed: 20240601 });
    filterStore = await open('f', [...docs, { a: [] }, { a: [null, 'x'] }, { a: { a: 1 } }, null, [1, 2]], filterHits);
    sortStore = await open('s', fc.sample(sortDoc, { numRuns: 25, seed: 7 }), sortHits);
  });

  afterAll(async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}_f, ${table}_f_meta, ${table}_s, ${table}_s_meta`);
    await client.end();
    await Promise.all(stores.map((s) => s.close()));
  });

  it('returns the same keys as the reference for random filters', async () => {
    await fc.assert(
      fc.asyncProperty(filter, (f) => expectSame(filterStore, filterHits, { filter: f })),
      { numRuns: 300, seed: 42 },
    );
  });

  it('returns the same order and page tokens as the reference for random sorts and pages', async () => {
    await fc.assert(
      fc.asyncProperty(sortSpec, page, fc.option(leaf, { nil: undefined }), (sort, p, f) =>
        expectSame(sortStore, sortHits, { sort, page: p, ...(f ? { filter: f } : {}) }),
      ),
      { numRuns: 200, seed: 43 },
    );
  });

  it('returns the same keys as the reference for random filters without a fixed seed', async () => {
    await fc.assert(fc.asyncProperty(filter, (f) => expectSame(filterStore, filterHits, { filter: f })), { numRuns: 100 });
  });
});
