/**
 * HTTP routes of the lock API (`POST /v1.0-alpha1/lock/{store}`, `/v1.0-alpha1/unlock/{store}`).
 * Bodies are read as daprd reads them (protojson): the JSON names `resourceId`, `lockOwner`,
 * `expiryInSeconds` or the proto names `resource_id` …, unknown fields ignored, an empty body as an
 * empty request; replies always carry `success` / a numeric `status`.
 */
import { commonErrors } from '../../errors/index.js';
import type { HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { jsonReply } from '../../api/http/types.js';
import type { LockBlock, TryLockInput } from './lock-block.js';

type Body = Record<string, unknown>;

function parseBody(req: HttpRequestContext): Body {
  if (req.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw commonErrors.malformedRequest(`failed deserializing HTTP body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw commonErrors.malformedRequest('failed deserializing HTTP body: expected a JSON object');
  }
  return parsed as Body;
}

function stringField(body: Body, json: string, proto: string): string {
  const value = body[json] ?? body[proto];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw commonErrors.malformedRequest(`failed deserializing HTTP body: ${json} must be a string`);
  return value;
}

/** protojson's int32: a number or a decimal string, integral and in range. */
function int32Field(body: Body, json: string, proto: string): number {
  const value = body[json] ?? body[proto];
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31)) {
    throw commonErrors.malformedRequest(`failed deserializing HTTP body: ${json} must be a 32-bit integer`);
  }
  return n;
}

function decode(req: HttpRequestContext): TryLockInput {
  const body = parseBody(req);
  return {
    storeName: req.params['storeName'] ?? '',
    resourceId: stringField(body, 'resourceId', 'resource_id'),
    lockOwner: stringField(body, 'lockOwner', 'lock_owner'),
    expiryInSeconds: int32Field(body, 'expiryInSeconds', 'expiry_in_seconds'),
  };
}

/** The lock routes over a {@link LockBlock}. */
export function lockRoutes(lock: LockBlock): HttpRoute[] {
  return [
    {
      methods: ['POST'],
      path: '/v1.0-alpha1/lock/:storeName',
      group: 'lock',
      name: 'TryLock',
      handler: async (req) => jsonReply(200, { success: await lock.tryLock(decode(req)) }),
    },
    {
      methods: ['POST'],
      path: '/v1.0-alpha1/unlock/:storeName',
      group: 'unlock',
      name: 'Unlock',
      handler: async (req) => {
        const { expiryInSeconds: _ignored, ...input } = decode(req);
        return jsonReply(200, { status: await lock.unlock(input) });
      },
    },
  ];
}
