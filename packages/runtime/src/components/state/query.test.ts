import { describe, expect, it } from 'vitest';
import { QueryParseError, evaluateQuery, matchesFilter, pageOffset, parseStateQuery, readPath } from './query.js';
import type { StateQueryHit } from './store.js';

/** Parses and returns the error message, failing when parsing succeeds. */
function parseError(raw: unknown): string {
  try {
    parseStateQuery(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(QueryParseError);
    return (err as Error).message;
  }
  throw new Error('expected a QueryParseError');
}

function hits(docs: Record<string, unknown>): StateQueryHit[] {
  return Object.entries(docs).map(([key, doc], i) => ({
    key,
    value: Buffer.from(typeof doc === 'string' && doc.startsWith('raw:') ? doc.slice(4) : JSON.stringify(doc)),
    etag: String(i + 1),
  }));
}

describe('parseStateQuery', () => {
  it('accepts filter, sort and page and normalises sort order to upper case', () => {
    const query = parseStateQuery({
      filter: { AND: [{ EQ: { state: 'CA' } }, { IN: { city: ['a', 'b'] } }] },
      sort: [{ key: 'person.id', order: 'desc' }, { key: 'city' }],
      page: { limit: 2, token: '4' },
    });
    expect(query).toEqual({
      filter: { AND: [{ EQ: { state: 'CA' } }, { IN: { city: ['a', 'b'] } }] },
      sort: [
        { key: 'person.id', order: 'DESC' },
        { key: 'city', order: 'ASC' },
      ],
      page: { limit: 2, token: '4' },
    });
  });

  it('treats an empty filter object as no filter', () => {
    expect(parseStateQuery({ filter: {} })).toEqual({});
  });

  it('names the field of each invalid part', () => {
    expect(parseError('EQ')).toBe('query must be a JSON object');
    expect(parseError({ filter: { EQ: { a: 1 }, IN: { b: [1] } } })).toBe('filter must have exactly one operator, got 2');
    expect(parseError({ filter: { LIKE: { a: 1 } } })).toContain('filter: unknown operator "LIKE"');
    expect(parseError({ filter: { AND: [{ EQ: { a: 1 } }] } })).toBe('filter.AND must be an array of at least two filters');
    expect(parseError({ filter: { OR: [{ EQ: { a: 1 } }, { GT: 'x' }] } })).toBe('filter.OR[1].GT must be an object with exactly one field');
    expect(parseError({ filter: { IN: { a: [] } } })).toBe('filter.IN.a must be a non-empty array');
    expect(parseError({ filter: { EQ: { a: 1, b: 2 } } })).toBe('filter.EQ must be an object with exactly one field');
    expect(parseError({ sort: { key: 'a' } })).toBe('sort must be an array');
    expect(parseError({ sort: [{ key: 'a' }, { order: 'ASC' }] })).toBe('sort[1].key must be a string');
    expect(parseError({ sort: [{ key: 'a', order: 'UP' }] })).toBe('sort[0].order must be ASC or DESC');
    expect(parseError({ page: 3 })).toBe('page must be an object');
    expect(parseError({ page: { limit: 1.5 } })).toBe('page.limit must be a non-negative integer');
    expect(parseError({ page: { limit: -1 } })).toBe('page.limit must be a non-negative integer');
    expect(parseError({ page: { token: 7 } })).toBe('page.token must be a string');
  });
});

describe('readPath', () => {
  it('descends through objects only, so an array or scalar on the way means missing', () => {
    const doc = { a: { b: { c: 1 } }, list: [{ x: 1 }], n: 5 };
    expect(readPath(doc, 'a.b.c')).toBe(1);
    expect(readPath(doc, 'a.b')).toEqual({ c: 1 });
    expect(readPath(doc, 'list.0')).toBeUndefined();
    expect(readPath(doc, 'n.x')).toBeUndefined();
    expect(readPath(null, 'a')).toBeUndefined();
  });

  it('treats inherited properties such as constructor as missing', () => {
    expect(readPath({}, 'constructor')).toBeUndefined();
    expect(readPath({ a: {} }, 'a.toString')).toBeUndefined();
    expect(readPath(JSON.parse('{"constructor":1}'), 'constructor')).toBe(1);
    expect(matchesFilter({}, { NEQ: { constructor: 1 } })).toBe(true);
    expect(matchesFilter({}, { GT: { toString: '' } })).toBe(false);
  });
});

describe('matchesFilter', () => {
  const doc = { state: 'CA', id: 10, tags: ['a'], obj: { k: 1 }, nil: null };

  it('compares EQ and IN by JSON value, so a number never equals its text', () => {
    expect(matchesFilter(doc, { EQ: { id: 10 } })).toBe(true);
    expect(matchesFilter(doc, { EQ: { id: '10' } })).toBe(false);
    expect(matchesFilter(doc, { EQ: { tags: ['a'] } })).toBe(true);
    expect(matchesFilter(doc, { EQ: { obj: { k: 1 } } })).toBe(true);
    expect(matchesFilter(doc, { IN: { state: ['WA', 'CA'] } })).toBe(true);
    expect(matchesFilter(doc, { IN: { state: ['WA'] } })).toBe(false);
  });

  it('never matches a missing field with EQ or IN, but always with NEQ', () => {
    expect(matchesFilter(doc, { EQ: { missing: null } })).toBe(false);
    expect(matchesFilter(doc, { IN: { missing: [null] } })).toBe(false);
    expect(matchesFilter(doc, { NEQ: { missing: 'x' } })).toBe(true);
    expect(matchesFilter(doc, { EQ: { nil: null } })).toBe(true);
  });

  it('compares numbers numerically and everything else as text; a missing field fails every comparison', () => {
    expect(matchesFilter(doc, { GT: { id: 9 } })).toBe(true);
    expect(matchesFilter(doc, { GT: { id: 10 } })).toBe(false);
    expect(matchesFilter(doc, { GTE: { id: 10 } })).toBe(true);
    expect(matchesFilter(doc, { LT: { id: 100 } })).toBe(true);
    expect(matchesFilter(doc, { LTE: { id: 9 } })).toBe(false);
    // Text order: "CA" < "WA"; a number against text compares as text ("10" < "9").
    expect(matchesFilter(doc, { LT: { state: 'WA' } })).toBe(true);
    expect(matchesFilter(doc, { LT: { id: '9' } })).toBe(true);
    expect(matchesFilter(doc, { GT: { missing: 0 } })).toBe(false);
    expect(matchesFilter(doc, { LT: { missing: 0 } })).toBe(false);
    // JSON null sorts below any value.
    expect(matchesFilter(doc, { LT: { nil: 0 } })).toBe(true);
  });

  it('combines filters with AND and OR', () => {
    expect(matchesFilter(doc, { AND: [{ EQ: { state: 'CA' } }, { GT: { id: 5 } }] })).toBe(true);
    expect(matchesFilter(doc, { AND: [{ EQ: { state: 'CA' } }, { GT: { id: 50 } }] })).toBe(false);
    expect(matchesFilter(doc, { OR: [{ EQ: { state: 'WA' } }, { GT: { id: 5 } }] })).toBe(true);
    expect(matchesFilter(doc, { OR: [{ EQ: { state: 'WA' } }, { GT: { id: 50 } }] })).toBe(false);
  });
});

describe('evaluateQuery', () => {
  const candidates = hits({
    c: { n: 3, s: 'x' },
    a: { n: 1, s: 'y' },
    b: { n: 2, s: 'x' },
    d: { s: 'z' },
    raw: 'raw:not json {',
  });

  it('returns every candidate ordered by key when there is no filter or sort, non-JSON values included', () => {
    expect(evaluateQuery({}, candidates).results.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd', 'raw']);
  });

  it('never lets a non-JSON value match a filter, not even NEQ', () => {
    expect(evaluateQuery({ filter: { NEQ: { s: 'nothing' } } }, candidates).results.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('sorts by the given keys, breaking ties by key, with missing values first ascending and last descending', () => {
    const filter = { NEQ: { s: '' } };
    expect(evaluateQuery({ filter, sort: [{ key: 'n' }] }, candidates).results.map((r) => r.key)).toEqual(['d', 'a', 'b', 'c']);
    expect(evaluateQuery({ filter, sort: [{ key: 'n', order: 'DESC' }] }, candidates).results.map((r) => r.key)).toEqual(['c', 'b', 'a', 'd']);
    expect(evaluateQuery({ filter, sort: [{ key: 's' }] }, candidates).results.map((r) => r.key)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('pages by offset tokens and gives no token on the last page', () => {
    const query = { filter: { NEQ: { s: '' } }, page: { limit: 3 } };
    const first = evaluateQuery(query, candidates);
    expect(first.results.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(first.token).toBe('3');
    const second = evaluateQuery({ ...query, page: { limit: 3, token: first.token ?? '' } }, candidates);
    expect(second.results.map((r) => r.key)).toEqual(['d']);
    expect(second.token).toBeUndefined();
  });

  it('gives no token when the page ends exactly at the last result, and returns everything for limit 0', () => {
    expect(evaluateQuery({ page: { limit: 5 } }, candidates).token).toBeUndefined();
    expect(evaluateQuery({ page: { limit: 0 } }, candidates).results).toHaveLength(5);
  });

  it('keeps the stored bytes and etag of each hit', () => {
    const [hit] = evaluateQuery({ filter: { EQ: { n: 2 } } }, candidates).results;
    expect(hit?.value.toString()).toBe('{"n":2,"s":"x"}');
    expect(hit?.etag).toBe('3');
  });
});

describe('pageOffset', () => {
  it('reads a non-negative integer token and rejects anything else', () => {
    expect(pageOffset(undefined)).toBe(0);
    expect(pageOffset('')).toBe(0);
    expect(pageOffset('12')).toBe(12);
    expect(() => pageOffset('-1')).toThrow(QueryParseError);
    expect(() => pageOffset('abc')).toThrow('invalid page token "abc"');
  });
});
