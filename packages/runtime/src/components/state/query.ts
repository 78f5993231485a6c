/**
 * Dapr's state query language (filter / sort / page) parsed once and evaluated over JSON values.
 * The in-memory and SQLite stores evaluate queries here; the Postgres store translates the same
 * parsed {@link StateQuery} into SQL.
 */
import type { QueryFilter, StateQuery, StateQueryHit, StateQueryResult } from './store.js';

/** Thrown for a query that is not valid JSON of the documented shape. */
export class QueryParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryParseError';
  }
}

const COMPARISONS = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseFilter(raw: unknown, path: string): QueryFilter {
  if (!isRecord(raw)) throw new QueryParseError(`${path} must be an object`);
  const ops = Object.keys(raw);
  if (ops.length !== 1) throw new QueryParseError(`${path} must have exactly one operator, got ${ops.length}`);
  const op = ops[0] as string;
  const arg = raw[op];
  if (op === 'AND' || op === 'OR') {
    if (!Array.isArray(arg) || arg.length < 2) throw new QueryParseError(`${path}.${op} must be an array of at least two filters`);
    const filters = arg.map((f, i) => parseFilter(f, `${path}.${op}[${i}]`));
    return op === 'AND' ? { AND: filters } : { OR: filters };
  }
  if (!isRecord(arg) || Object.keys(arg).length !== 1) {
    throw new QueryParseError(`${path}.${op} must be an object with exactly one field`);
  }
  if (op === 'IN') {
    const [field, values] = Object.entries(arg)[0] as [string, unknown];
    if (!Array.isArray(values) || values.length === 0) throw new QueryParseError(`${path}.IN.${field} must be a non-empty array`);
    return { IN: { [field]: values } };
  }
  if ((COMPARISONS as readonly string[]).includes(op)) {
    return { [op]: arg } as QueryFilter;
  }
  throw new QueryParseError(`${path}: unknown operator "${op}" (expected EQ, NEQ, GT, GTE, LT, LTE, IN, AND, OR)`);
}

/** Validates a query body and returns it typed. */
export function parseStateQuery(raw: unknown): StateQuery {
  if (!isRecord(raw)) throw new QueryParseError('query must be a JSON object');
  const query: StateQuery = {};
  if (raw['filter'] !== undefined && !(isRecord(raw['filter']) && Object.keys(raw['filter']).length === 0)) {
    query.filter = parseFilter(raw['filter'], 'filter');
  }
  if (raw['sort'] !== undefined) {
    if (!Array.isArray(raw['sort'])) throw new QueryParseError('sort must be an array');
    query.sort = raw['sort'].map((s: unknown, i) => {
      if (!isRecord(s) || typeof s['key'] !== 'string' || s['key'] === '') throw new QueryParseError(`sort[${i}].key must be a string`);
      const order = s['order'] === undefined ? 'ASC' : String(s['order']).toUpperCase();
      if (order !== 'ASC' && order !== 'DESC') throw new QueryParseError(`sort[${i}].order must be ASC or DESC`);
      return { key: s['key'], order };
    });
  }
  if (raw['page'] !== undefined) {
    const page = raw['page'];
    if (!isRecord(page)) throw new QueryParseError('page must be an object');
    const limit = page['limit'];
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
      throw new QueryParseError('page.limit must be a non-negative integer');
    }
    const token = page['token'];
    if (token !== undefined && typeof token !== 'string') throw new QueryParseError('page.token must be a string');
    query.page = { ...(limit !== undefined ? { limit } : {}), ...(token ? { token } : {}) };
  }
  return query;
}

/**
 * Reads `a.b.c` out of a JSON document, descending through objects only. Only own properties count:
 * a field named `constructor` or `toString` is missing unless the document has it.
 */
export function readPath(doc: unknown, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function equalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** Evaluates a filter against one JSON document. */
export function matchesFilter(doc: unknown, filter: QueryFilter): boolean {
  if ('AND' in filter) return filter.AND.every((f) => matchesFilter(doc, f));
  if ('OR' in filter) return filter.OR.some((f) => matchesFilter(doc, f));
  if ('IN' in filter) {
    const [field, values] = Object.entries(filter.IN)[0] as [string, unknown[]];
    const actual = readPath(doc, field);
    return values.some((v) => equalJson(actual, v));
  }
  const [op, arg] = Object.entries(filter)[0] as [string, Record<string, unknown>];
  const [field, expected] = Object.entries(arg)[0] as [string, unknown];
  const actual = readPath(doc, field);
  switch (op) {
    case 'EQ':
      return equalJson(actual, expected);
    case 'NEQ':
      return !equalJson(actual, expected);
    case 'GT':
      return actual !== undefined && compare(actual, expected) > 0;
    case 'GTE':
      return actual !== undefined && compare(actual, expected) >= 0;
    case 'LT':
      return actual !== undefined && compare(actual, expected) < 0;
    case 'LTE':
      return actual !== undefined && compare(actual, expected) <= 0;
    default:
      return false;
  }
}

/** Parses a page token (an offset) or throws. */
export function pageOffset(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const offset = Number(token);
  if (!Number.isInteger(offset) || offset < 0) throw new QueryParseError(`invalid page token "${token}"`);
  return offset;
}

/**
 * Runs a query over candidate items in memory: filter, sort, then page. Items whose value is not
 * JSON never match a filter but are returned by an unfiltered query, as Dapr's stores do.
 */
export function evaluateQuery(query: StateQuery, candidates: Iterable<StateQueryHit>): StateQueryResult {
  const rows: { hit: StateQueryHit; doc: unknown }[] = [];
  for (const hit of candidates) {
    let doc: unknown;
    try {
      doc = JSON.parse(hit.value.toString('utf8'));
    } catch {
      doc = undefined;
    }
    if (query.filter && (doc === undefined || !matchesFilter(doc, query.filter))) continue;
    rows.push({ hit, doc });
  }
  const sort = query.sort ?? [];
  rows.sort((a, b) => {
    for (const { key, order } of sort) {
      const diff = compare(readPath(a.doc, key), readPath(b.doc, key));
      if (diff !== 0) return order === 'DESC' ? -diff : diff;
    }
    return a.hit.key < b.hit.key ? -1 : a.hit.key > b.hit.key ? 1 : 0;
  });
  const offset = pageOffset(query.page?.token);
  const limit = query.page?.limit && query.page.limit > 0 ? query.page.limit : undefined;
  const page = limit === undefined ? rows.slice(offset) : rows.slice(offset, offset + limit);
  const next = limit !== undefined && offset + limit < rows.length ? String(offset + limit) : undefined;
  return { results: page.map((r) => r.hit), ...(next ? { token: next } : {}) };
}
