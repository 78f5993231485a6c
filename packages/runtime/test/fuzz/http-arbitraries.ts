/**
 * fast-check arbitraries for the HTTP fuzz test: requests built from the real route patterns with
 * random or malformed segments (`%`, `||`, unicode, huge strings), random methods, query strings and
 * bodies (invalid JSON, wrong types, nested garbage, huge numbers), plus valid-but-conflicting writes
 * against seeded keys that the sidecar must refuse.
 */
import fc from 'fast-check';

/** One request the fuzzer sends. */
export interface FuzzRequest {
  method: string;
  /** Path and query, already encoded the way it goes on the wire. */
  target: string;
  body?: string;
  headers: Record<string, string>;
  /** For deliberate conflicts: the status and error code the sidecar must answer with. */
  expect?: { status: number; errorCode: string };
}

/** A seeded key and the etag it had before its current one. */
export interface SeededKey {
  store: string;
  key: string;
  staleEtag: string;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** Keys that random valid writes and reads share. */
export const POOLED_KEYS = ['k0', 'k1', 'k2', 'k3', 'ключ', 'k 4', 'k:5'] as const;
const POOLED_KEY = fc.constantFrom(...POOLED_KEYS);

/** Store names: the real ones most of the time, else garbage. */
const storeName = (stores: readonly string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...stores) }, { weight: 1, arbitrary: segment() });

/** A path segment's text before encoding: plain, unicode, `||`, `%`, dots, huge. */
function segment(): fc.Arbitrary<string> {
  return fc.oneof(
    // A small pool, so that writes and reads of the same keys meet.
    { weight: 3, arbitrary: POOLED_KEY },
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
    fc.constantFrom('a||b', '||', '%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '..', '.', 'bulk', 'transaction', 'query', ' ', '\u{1F600}', 'ключ', '\uD800'),
    fc.nat({ max: 5000 }).map((n) => 'k'.repeat(n + 1)),
  );
}

/** Lone surrogates cannot be percent-encoded; they become a plain letter. */
const wellFormed = (text: string) => text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, 'x');

/**
 * Encodes a segment: usually properly, sometimes raw, so that `/`, `?`, `#`, `|` and bare or broken
 * `%` escapes reach the server as written (only non-printable and non-ASCII characters are escaped).
 */
const encoded = (arb: fc.Arbitrary<string>) =>
  fc.tuple(arb, fc.nat({ max: 9 })).map(([text, mode]) => {
    const safe = wellFormed(text);
    if (mode < 7) return encodeURIComponent(safe);
    return safe.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  });

const queryString = fc.oneof(
  fc.constant(''),
  fc.constant('?'),
  fc.constantFrom('?metadata.ttlInSeconds=5', '?metadata.ttlInSeconds=-1', '?metadata.ttlInSeconds=1e999', '?metadata.ttlInSeconds=abc'),
  fc.constantFrom('?metadata.ttlInSeconds=99999999999999999999', '?consistency=strong', '?concurrency=first-write', '?appid=other'),
  fc
    .array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })), { maxLength: 4 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
  fc.string({ maxLength: 20 }).map((s) => `?${wellFormed(s).replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c))}`),
);

/** Light path damage the API must tolerate or refuse cleanly. */
const pathDamage = fc.constantFrom('none', 'none', 'none', 'trailing-slash', 'double-slash', 'dot-segment');

function damage(path: string, kind: string): string {
  switch (kind) {
    case 'trailing-slash':
      return `${path}/`;
    case 'double-slash':
      return path.replace(/\//g, '//');
    case 'dot-segment':
      return `${path}/../x`;
    default:
      return path;
  }
}

const ttl = fc.oneof(
  fc.constantFrom('5', '-1', '-2', '0', '1e999', '99999999999999999999', '9007199254740993', 'abc', ''),
  fc.integer().map(String),
);

/** Any JSON value, nested garbage included. */
const anyJson = fc.jsonValue({ maxDepth: 4 });

const metadataMap = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean())),
  fc.record({ ttlInSeconds: ttl }),
  anyJson,
);

const saveItem = fc.record(
  {
    key: fc.oneof(fc.string({ maxLength: 20 }), segment(), fc.constantFrom(null, 5, '', true)),
    value: anyJson,
    etag: fc.oneof(fc.string({ maxLength: 6 }), fc.nat().map(String), fc.constantFrom(7, null)),
    metadata: metadataMap,
    options: fc.oneof(
      fc.record({ concurrency: fc.constantFrom('first-write', 'last-write', 'x', ''), consistency: fc.constantFrom('strong', 'eventual', 5) }, { requiredKeys: [] }),
      anyJson,
    ),
    contentType: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(3)),
  },
  { requiredKeys: ['key'] },
);

const operation = fc.record(
  {
    operation: fc.oneof(fc.constantFrom('upsert', 'delete', 'merge', '', 'UPSERT'), fc.string({ maxLength: 6 }), fc.integer()),
    request: fc.oneof({ weight: 4, arbitrary: saveItem }, { weight: 1, arbitrary: anyJson }),
  },
  { requiredKeys: [] },
);

const queryFilter: fc.Arbitrary<unknown> = fc.letrec<{ filter: unknown }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ EQ: fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 2 }) }),
    fc.record({ IN: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.array(anyJson, { maxLength: 3 }), anyJson), { maxKeys: 2 }) }),
    fc.record({ AND: fc.oneof(fc.array(tie('filter'), { maxLength: 3 }), anyJson) }),
    fc.record({ OR: fc.oneof(fc.array(tie('filter'), { maxLength: 3 }), anyJson) }),
    fc.record({ GT: fc.dictionary(fc.string({ maxLength: 4 }), anyJson, { maxKeys: 1 }) }),
    anyJson,
  ),
})).filter;

/** Writes that should succeed, so the happy paths (TTL, first-write, deletes) run under the fuzz too. */
const validItem = fc.record(
  {
    key: POOLED_KEY,
    value: anyJson,
    metadata: fc.record({
      ttlInSeconds: fc.oneof(fc.constantFrom('-1', '0', '3600', '2147483647', '2147483648', '99999999999999999999'), fc.nat().map(String)),
    }),
    options: fc.record({ concurrency: fc.constantFrom('first-write', 'last-write', 'last-write') }),
  },
  { requiredKeys: ['key', 'value'] },
);

/** Bodies: valid writes, structured-but-wrong JSON for each route, and raw garbage. */
const body = fc.oneof(
  { weight: 6, arbitrary: fc.array(validItem, { minLength: 1, maxLength: 3 }).map((items) => JSON.stringify(items)) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(validItem.map((request) => ({ operation: 'upsert', request })), POOLED_KEY.map((key) => ({ operation: 'delete', request: { key } }))), { maxLength: 4 })
      .map((operations) => JSON.stringify({ operations })),
  },
  { weight: 1, arbitrary: fc.array(POOLED_KEY, { maxLength: 6 }).map((keys) => JSON.stringify({ keys })) },
  { weight: 3, arbitrary: fc.array(saveItem, { maxLength: 4 }).map((items) => JSON.stringify(items)) },
  { weight: 2, arbitrary: fc.record({ operations: fc.oneof(fc.array(operation, { maxLength: 4 }), anyJson), metadata: metadataMap }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.record({ keys: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 10 }), segment()), { maxLength: 5 }), anyJson), parallelism: fc.oneof(fc.integer(), fc.double(), fc.constant(1e308)) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.record({ filter: queryFilter, sort: fc.oneof(fc.array(fc.record({ key: fc.string({ maxLength: 6 }), order: fc.constantFrom('ASC', 'DESC', 'x') }), { maxLength: 2 }), anyJson), page: fc.oneof(fc.record({ limit: fc.oneof(fc.integer(), fc.double()), token: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()) }, { requiredKeys: [] }), anyJson) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.array(anyJson, { maxLength: 20 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[', '[{"key":', 'null', '1e999', '-1e400', '123456789012345678901234567890', '[{"key":"k","value":1e999}]', '{"operations":[{"operation":"upsert","request":{"key":"k","value":-1e400}}]}', '[{"key":"k","value":1,"metadata":{"ttlInSeconds":"99999999999999999999"}}]') },
  { weight: 1, arbitrary: fc.nat({ max: 100_000 }).map((n) => JSON.stringify([{ key: 'huge', value: 'v'.repeat(n) }])) },
);

/** A request built from one of the real route patterns. */
export function routeRequest(stores: readonly string[], secretStores: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const key = encoded(segment());
  const state = encoded(storeName(stores));
  const secrets = encoded(storeName(secretStores));
  const pattern: fc.Arbitrary<[readonly string[], string]> = fc.oneof(
    fc.tuple(fc.constant<readonly string[]>(['GET', 'DELETE']), fc.tuple(state, key).map(([s, k]) => `/v1.0/state/${s}/${k}`)),
    fc.tuple(fc.constant<readonly string[]>(['POST', 'PUT']), state.map((s) => `/v1.0/state/${s}`)),
    fc.tuple(fc.constant<readonly string[]>(['POST', 'PUT']), state.map((s) => `/v1.0/state/${s}/bulk`)),
    fc.tuple(fc.constant<readonly string[]>(['POST', 'PUT']), state.map((s) => `/v1.0/state/${s}/transaction`)),
    fc.tuple(fc.constant<readonly string[]>(['POST', 'PUT']), state.map((s) => `/v1.0-alpha1/state/${s}/query`)),
    fc.tuple(fc.constant<readonly string[]>(['GET']), secrets.map((s) => `/v1.0/secrets/${s}/bulk`)),
    fc.tuple(fc.constant<readonly string[]>(['GET']), fc.tuple(secrets, key).map(([s, k]) => `/v1.0/secrets/${s}/${k}`)),
    fc.tuple(fc.constant<readonly string[]>(['GET']), fc.constant<string>('/v1.0/metadata')),
    fc.tuple(fc.constant<readonly string[]>(['PUT']), key.map((k) => `/v1.0/metadata/${k}`)),
    fc.tuple(fc.constant<readonly string[]>(['GET']), fc.constantFrom<string>('/v1.0/healthz', '/v1.0/healthz/outbound')),
    // Unmatched paths, including near-misses of real routes.
    fc.tuple(
      fc.constant<readonly string[]>(METHODS),
      fc.oneof(
        fc.array(key, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
        fc.constantFrom('/v1.0/state', '/v1.0/state/', '/v1.0/secrets/x', '/v1.0', '/', '/v1.0/metadata/', '/v2.0/state/store/k', '/v1.0/state/store/k/extra/more'),
      ),
    ),
  );
  return fc
    .record({
      pattern,
      anyMethod: fc.constantFrom(...METHODS),
      useAnyMethod: fc.nat({ max: 9 }),
      damage: pathDamage,
      query: queryString,
      body: fc.option(body, { freq: 5 }),
      ifMatch: fc.option(fc.oneof(fc.nat().map(String), fc.stringMatching(/^[A-Za-z0-9-]{0,12}$/)), { freq: 3 }),
    })
    .map(({ pattern: [methods, path], anyMethod, useAnyMethod, damage: kind, query, body: payload, ifMatch }) => {
      const method = useAnyMethod < 8 ? (methods[useAnyMethod % methods.length] ?? 'GET') : anyMethod;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (ifMatch !== null) headers['if-match'] = ifMatch;
      const request: FuzzRequest = { method, target: damage(path, kind) + query, headers };
      // fetch refuses a body on GET and HEAD; those routes read none anyway.
      if (payload !== null && method !== 'GET' && method !== 'HEAD') request.body = payload;
      return request;
    });
}

/** Valid writes against seeded keys that must be refused (stale or bad etag, first-write on an existing key). */
export function conflictingWrite(seeded: readonly SeededKey[]): fc.Arbitrary<FuzzRequest> {
  const headers = { 'content-type': 'application/json' };
  return fc
    .tuple(fc.constantFrom(...seeded), fc.nat({ max: 7 }), fc.string({ maxLength: 8 }), anyJson)
    .map(([seed, kind, other, value]): FuzzRequest => {
      const { store, key, staleEtag } = seed;
      const saveUrl = `/v1.0/state/${store}`;
      const freshKey = `fresh-${encodeURIComponent(other)}`;
      const refused = (status: number, errorCode: string) => ({ status, errorCode });
      switch (kind) {
        case 0:
          return { method: 'POST', target: saveUrl, headers, body: JSON.stringify([{ key, value, etag: staleEtag }]), expect: refused(409, 'ERR_STATE_SAVE') };
        case 1:
          return { method: 'PUT', target: saveUrl, headers, body: JSON.stringify([{ key, value, etag: 'not-a-version' }]), expect: refused(400, 'ERR_STATE_SAVE') };
        case 2:
          return {
            method: 'POST',
            target: saveUrl,
            headers,
            body: JSON.stringify([{ key, value, options: { concurrency: 'first-write' } }]),
            expect: refused(409, 'ERR_STATE_SAVE'),
          };
        case 3:
          return { method: 'DELETE', target: `${saveUrl}/${encodeURIComponent(key)}`, headers: { 'if-match': staleEtag }, expect: refused(409, 'ERR_STATE_DELETE') };
        case 4:
          return { method: 'DELETE', target: `${saveUrl}/${encodeURIComponent(key)}`, headers: { 'if-match': 'garbage' }, expect: refused(400, 'ERR_STATE_DELETE') };
        case 5:
          return {
            method: 'POST',
            target: saveUrl,
            headers,
            body: JSON.stringify([{ key: freshKey, value }, { key, value, etag: staleEtag }]),
            expect: refused(409, 'ERR_STATE_SAVE'),
          };
        default: {
          const operations = [
            { operation: 'upsert', request: { key: freshKey, value } },
            kind === 6 ? { operation: 'upsert', request: { key, value, etag: staleEtag } } : { operation: 'delete', request: { key, etag: staleEtag } },
          ];
          return {
            method: 'POST',
            target: `/v1.0/state/${store}/transaction`,
            headers,
            body: JSON.stringify({ operations }),
            // Dapr answers a failed transaction, etag conflicts included, with 500 ERR_STATE_TRANSACTION;
            // a store without TRANSACTIONAL refuses it before looking at etags.
            expect: store === 'plain' ? refused(500, 'ERR_STATE_STORE_NOT_SUPPORTED') : refused(500, 'ERR_STATE_TRANSACTION'),
          };
        }
      }
    });
}
