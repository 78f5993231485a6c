/**
 * Translates a parsed {@link StateQuery} into one parameterised SELECT over v1's `value` jsonb column
 * (Dapr's layout; rows with `isbinary` hold base64 and never match a filter),
 * with the semantics of the in-memory reference ({@link evaluateQuery} in `../query.ts`):
 *
 * - a field path `a.b` descends through JSON objects only (an array or scalar on the way → missing);
 * - EQ / IN compare JSON values (numbers numerically); a missing field never equals anything;
 * - NEQ is true for a missing field;
 * - GT/GTE/LT/LTE are false for a missing field; JSON null sorts below everything; two numbers compare
 *   numerically; anything else compares as text (`String(x)` in JavaScript, byte order here);
 * - values that are not JSON never match a filter but an unfiltered query returns them;
 * - ties in the sort order, and unsorted results, are ordered by key.
 *
 * Known differences, all for data no one queries in practice: EQ on objects ignores key order here
 * (JavaScript compares them serialised); arrays nested in arrays render as JSON in text comparisons;
 * numbers JavaScript prints with an exponent (>= 1e21) compare as text in Postgres' notation; sorting
 * one key over values of mixed types orders numbers apart from text; and values holding `\u0000` or
 * lone surrogates, which jsonb cannot store, are treated as not JSON.
 *
 * Every value from the query travels as a bind parameter; field paths become `text[]` parameters.
 */
import { pageOffset } from '../query.js';
import type { QueryFilter, StateQuery } from '../store.js';

/** A SQL fragment and the parameters it binds. */
export interface SqlQuery {
  text: string;
  values: unknown[];
}

/** Collects bind parameters and hands out their `$n` placeholders. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The JSON at `path`, or SQL NULL when it is missing. Each step must stand on an object, as
 * `readPath` requires; `#>` alone would also index into arrays.
 */
function field(params: Params, path: string): string {
  const parts = path.split('.');
  const guards: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    guards.push(`jsonb_typeof(value #> ${params.add(parts.slice(0, i))}::text[]) = 'object'`);
  }
  return `(CASE WHEN ${guards.join(' AND ')} THEN value #> ${params.add(parts)}::text[] END)`;
}

/** JavaScript's `String(x)` of one JSON value that is not an array. */
function scalarText(f: string): string {
  return `CASE jsonb_typeof(${f}) WHEN 'object' THEN '[object Object]' ELSE ${f} #>> '{}' END`;
}

/**
 * JavaScript's `String(x)` of a JSON value, for the text branch of comparisons: objects render as
 * `[object Object]`, arrays as their elements joined by commas (null as empty text).
 */
function asText(f: string): string {
  const element = `CASE jsonb_typeof(e) WHEN 'null' THEN '' ELSE ${scalarText('e')} END`;
  const joined = `(SELECT coalesce(string_agg(${element}, ',' ORDER BY i), '') FROM jsonb_array_elements(${f}) WITH ORDINALITY AS el(e, i))`;
  return `(CASE WHEN jsonb_typeof(${f}) = 'array' THEN ${joined} ELSE ${scalarText(f)} END) COLLATE "C"`;
}

/** The sign of `compare(actual, expected)` from `../query.ts`, as SQL yielding -1, 0 or 1. */
function compareSql(params: Params, f: string, expected: unknown): string {
  if (expected === null) return `(CASE WHEN jsonb_typeof(${f}) = 'null' THEN 0 ELSE 1 END)`;
  const text = params.add(String(expected));
  const textCompare = `(CASE WHEN ${asText(f)} < ${text}::text THEN -1 WHEN ${asText(f)} > ${text}::text THEN 1 ELSE 0 END)`;
  const numeric =
    typeof expected === 'number' ? `WHEN jsonb_typeof(${f}) = 'number' THEN sign((${f})::numeric - ${params.add(expected)}::numeric)::int ` : '';
  return `(CASE WHEN jsonb_typeof(${f}) = 'null' THEN -1 ${numeric}ELSE ${textCompare} END)`;
}

const RELATION: Record<string, string> = { GT: '> 0', GTE: '>= 0', LT: '< 0', LTE: '<= 0' };

function filterSql(params: Params, filter: QueryFilter): string {
  if ('AND' in filter) return `(${filter.AND.map((f) => filterSql(params, f)).join(' AND ')})`;
  if ('OR' in filter) return `(${filter.OR.map((f) => filterSql(params, f)).join(' OR ')})`;
  if ('IN' in filter) {
    const [path, values] = Object.entries(filter.IN)[0] as [string, unknown[]];
    return `(${field(params, path)} IN (SELECT jsonb_array_elements(${params.add(JSON.stringify(values))}::jsonb)))`;
  }
  const [op, arg] = Object.entries(filter)[0] as [string, Record<string, unknown>];
  const [path, expected] = Object.entries(arg)[0] as [string, unknown];
  const f = field(params, path);
  switch (op) {
    case 'EQ':
      return `(${f} = ${params.add(JSON.stringify(expected))}::jsonb)`;
    case 'NEQ':
      return `(${f} IS DISTINCT FROM ${params.add(JSON.stringify(expected))}::jsonb)`;
    default: {
      const relation = RELATION[op];
      if (!relation) throw new Error(`unsupported query operator ${op}`);
      return `(${f} IS NOT NULL AND ${compareSql(params, f, expected)} ${relation})`;
    }
  }
}

/** ORDER BY terms for one sort key: missing/null first, then numbers numerically, then text. */
function sortSql(params: Params, key: string, order: 'ASC' | 'DESC'): string[] {
  const f = field(params, key);
  return [
    `(CASE WHEN ${f} IS NULL OR jsonb_typeof(${f}) = 'null' THEN 0 ELSE 1 END) ${order}`,
    `(CASE WHEN jsonb_typeof(${f}) = 'number' THEN (${f})::numeric END) ${order} NULLS FIRST`,
    `${asText(f)} ${order} NULLS FIRST`,
  ];
}

/**
 * The SELECT for one query page. It fetches one row more than the page size, so the caller can tell
 * whether a next page exists. `liveCondition` hides expired rows; `columns` is the select list.
 */
export function buildQuerySql(
  query: StateQuery,
  options: { table: string; keyPrefix: string; columns: string; liveCondition: string },
): SqlQuery & { limit: number | undefined; offset: number } {
  const params = new Params();
  const where = [`starts_with(key, ${params.add(options.keyPrefix)})`, options.liveCondition];
  if (query.filter) where.push('NOT isbinary', filterSql(params, query.filter));
  const orderBy = (query.sort ?? []).flatMap((s) => sortSql(params, s.key, s.order ?? 'ASC'));
  orderBy.push('key COLLATE "C" ASC');
  const offset = pageOffset(query.page?.token);
  const limit = query.page?.limit && query.page.limit > 0 ? query.page.limit : undefined;
  const paging = `${limit !== undefined ? ` LIMIT ${params.add(limit + 1)}` : ''} OFFSET ${params.add(offset)}`;
  const text =
    `SELECT ${options.columns} FROM ${options.table} WHERE ${where.join(' AND ')} ` +
    `ORDER BY ${orderBy.join(', ')}${paging}`;
  return { text, values: params.values, limit, offset };
}
