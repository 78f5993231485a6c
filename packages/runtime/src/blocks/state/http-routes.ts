/** HTTP routes of the state API (`/v1.0/state/...`, `/v1.0-alpha1/state/{store}/query`). */
import type { SaveItem, StateBlock, TransactionRequestOperation } from './state-block.js';
import { commonErrors } from '../../errors/index.js';
import { parseJsonBody } from '../../api/http/body.js';
import {
  embedStoredValue,
  isObject,
  jsonValueBytes,
  optionalString,
  optionalStringMap,
  optionalWriteOptions,
} from '../../api/http/decode.js';
import type { HttpReply, HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { metadataFromQuery, noContent } from '../../api/http/types.js';

function decodeSaveItems(body: unknown, urlMetadata: Record<string, string>): SaveItem[] {
  if (!Array.isArray(body)) throw commonErrors.malformedRequest('request body must be a JSON array of state items');
  return body.map((raw: unknown, i) => {
    const where = `[${i}]`;
    if (!isObject(raw)) throw commonErrors.malformedRequest(`${where} must be an object with key and value`);
    const key = raw['key'];
    if (key === undefined || key === null || key === '') throw commonErrors.malformedRequest('"key" is a required field');
    if (typeof key !== 'string') throw commonErrors.malformedRequest(`${where}.key must be a string`);
    const etag = optionalString(raw, 'etag', where);
    const itemMetadata = optionalStringMap(raw, 'metadata', where);
    const options = optionalWriteOptions(raw, where);
    const contentType = optionalString(raw, 'contentType', where);
    const metadata = { ...itemMetadata, ...urlMetadata };
    return {
      key,
      value: jsonValueBytes(raw['value']),
      ...(etag !== undefined ? { etag } : {}),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(options ? { options } : {}),
      ...(contentType ? { contentType } : {}),
    };
  });
}

function decodeTransaction(body: unknown): { operations: TransactionRequestOperation[]; metadata: Record<string, string> } {
  if (!isObject(body)) throw commonErrors.malformedRequest('request body must be an object with "operations"');
  const rawOps = body['operations'] ?? [];
  if (!Array.isArray(rawOps)) throw commonErrors.malformedRequest('operations must be an array');
  const operations = rawOps.map((raw: unknown, i): TransactionRequestOperation => {
    const where = `operations[${i}]`;
    if (!isObject(raw)) throw commonErrors.malformedRequest(`${where} must be an object`);
    const operation = optionalString(raw, 'operation', where) ?? '';
    const request = raw['request'];
    if (!isObject(request)) throw commonErrors.malformedRequest(`${where}.request must be an object`);
    const key = request['key'];
    if (typeof key !== 'string' || key === '') throw commonErrors.malformedRequest('"key" is a required field');
    const etag = optionalString(request, 'etag', `${where}.request`);
    const metadata = optionalStringMap(request, 'metadata', `${where}.request`);
    const options = optionalWriteOptions(request, `${where}.request`);
    const contentType = optionalString(request, 'contentType', `${where}.request`);
    return {
      operation,
      request: {
        key,
        ...('value' in request ? { value: jsonValueBytes(request['value']) } : {}),
        ...(etag !== undefined ? { etag } : {}),
        ...(metadata ? { metadata } : {}),
        ...(options ? { options } : {}),
        ...(contentType ? { contentType } : {}),
      },
    };
  });
  return { operations, metadata: optionalStringMap(body, 'metadata', 'request') ?? {} };
}

function stateReplyHeaders(etag: string, metadata: Record<string, string>, contentType?: string): Record<string, string> {
  const headers: Record<string, string> = { etag, 'content-type': contentType ?? 'application/json' };
  for (const [k, v] of Object.entries(metadata)) headers[`metadata.${k}`] = v;
  return headers;
}

/** The state routes over a {@link StateBlock}. */
export function stateRoutes(state: StateBlock): HttpRoute[] {
  const save = async (req: HttpRequestContext): Promise<HttpReply> => {
    const items = decodeSaveItems(parseJsonBody(req.body), metadataFromQuery(req.query));
    await state.save(req.params['storeName'] ?? '', items);
    return noContent();
  };
  return [
    {
      methods: ['GET'],
      path: '/v1.0/state/:storeName/:key',
      group: 'state',
      name: 'GetState',
      handler: async (req) => {
        const metadata = metadataFromQuery(req.query);
        const consistency = req.query.get('consistency');
        if (consistency) metadata['consistency'] = consistency;
        const value = await state.get(req.params['storeName'] ?? '', req.params['key'] ?? '', metadata);
        if (!value) return noContent();
        return { status: 200, body: value.data, headers: stateReplyHeaders(value.etag, value.metadata, value.contentType) };
      },
    },
    { methods: ['POST', 'PUT'], path: '/v1.0/state/:storeName', group: 'state', name: 'SaveState', handler: save },
    {
      methods: ['DELETE'],
      path: '/v1.0/state/:storeName/:key',
      group: 'state',
      name: 'DeleteState',
      handler: async (req) => {
        const ifMatch = req.headers['if-match'];
        const concurrency = req.query.get('concurrency');
        const consistency = req.query.get('consistency');
        const options = {
          ...(concurrency ? { concurrency: concurrency as 'first-write' | 'last-write' } : {}),
          ...(consistency ? { consistency: consistency as 'eventual' | 'strong' } : {}),
        };
        await state.delete(req.params['storeName'] ?? '', req.params['key'] ?? '', ifMatch || undefined, options);
        return noContent();
      },
    },
    {
      methods: ['POST', 'PUT'],
      path: '/v1.0/state/:storeName/bulk',
      group: 'state',
      name: 'GetBulkState',
      handler: async (req) => {
        const body = parseJsonBody(req.body);
        if (!isObject(body) || !Array.isArray(body['keys']) || !body['keys'].every((k) => typeof k === 'string')) {
          throw commonErrors.malformedRequest('request body must be {"keys": [string, ...]}');
        }
        const parallelism = typeof body['parallelism'] === 'number' && body['parallelism'] > 0 ? body['parallelism'] : undefined;
        const entries = await state.bulkGet(req.params['storeName'] ?? '', body['keys'] as string[], parallelism);
        const parts = entries.map((e) => {
          const fields = [`"key":${JSON.stringify(e.key)}`];
          if (e.data) fields.push(`"data":${embedStoredValue(e.data)}`);
          if (e.etag) fields.push(`"etag":${JSON.stringify(e.etag)}`);
          if (e.metadata) fields.push(`"metadata":${JSON.stringify(e.metadata)}`);
          if (e.error) fields.push(`"error":${JSON.stringify(e.error)}`);
          return `{${fields.join(',')}}`;
        });
        return { status: 200, body: `[${parts.join(',')}]`, headers: { 'content-type': 'application/json' } };
      },
    },
    {
      methods: ['POST', 'PUT'],
      path: '/v1.0/state/:storeName/transaction',
      group: 'state',
      name: 'ExecuteStateTransaction',
      handler: async (req) => {
        const { operations, metadata } = decodeTransaction(parseJsonBody(req.body));
        await state.transact(req.params['storeName'] ?? '', operations, { ...metadata, ...metadataFromQuery(req.query) });
        return noContent();
      },
    },
    {
      methods: ['POST', 'PUT'],
      path: '/v1.0-alpha1/state/:storeName/query',
      group: 'state',
      name: 'QueryStateAlpha1',
      handler: async (req) => {
        const reply = await state.query(req.params['storeName'] ?? '', parseJsonBody(req.body));
        if (reply.results.length === 0) return noContent();
        const results = reply.results.map(
          (r) => `{"key":${JSON.stringify(r.key)},"data":${embedStoredValue(r.data)},"etag":${JSON.stringify(r.etag)}}`,
        );
        const token = reply.token ? `,"token":${JSON.stringify(reply.token)}` : '';
        return { status: 200, body: `{"results":[${results.join(',')}]${token},"metadata":{}}`, headers: { 'content-type': 'application/json' } };
      },
    },
  ];
}

