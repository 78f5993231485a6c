/** The actor API's HTTP routes (dapr `pkg/api/http/actors.go`), over an {@link ActorsBlock}. */
import type { HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { noContent } from '../../api/http/types.js';
import { actorErrors } from './actor-errors.js';
import type { ActorsBlock } from './actors-block.js';
import type { ActorStateOperation } from './actor-state.js';

type Json = Record<string, unknown>;

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw actorErrors.malformed(body.length === 0 ? 'EOF' : (err as Error).message);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string field of a Go struct: absent/null is empty, another JSON type is a decode error. */
function str(obj: Json, field: string): string {
  const v = obj[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw actorErrors.malformed(`json: cannot unmarshal ${typeof v} into Go struct field .${field} of type string`);
  return v;
}

/** `data` as raw JSON text, as daprd keeps it (json.RawMessage); undefined when absent. */
function rawData(obj: Json): string | undefined {
  return obj['data'] === undefined ? undefined : JSON.stringify(obj['data']);
}

/** Decodes the transaction body: `[{"operation","request":{"key","value","metadata"}}]`. */
export function decodeActorTransaction(body: Buffer): ActorStateOperation[] {
  const raw = parse(body);
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw actorErrors.malformed('json: cannot unmarshal object into Go value of type []api.TransactionalOperation');
  return raw.map((item: unknown): ActorStateOperation => {
    if (!isObject(item)) throw actorErrors.malformed('json: cannot unmarshal into Go value of type api.TransactionalOperation');
    const operation = item['operation'];
    const request = item['request'];
    if (request === undefined || request === null) throw actorErrors.stateTransaction('request data is empty');
    if (operation === undefined || operation === '') throw actorErrors.stateTransaction('operation is empty');
    if (operation !== 'upsert' && operation !== 'delete') throw actorErrors.stateTransaction(`operation type ${String(operation)} not supported`);
    if (!isObject(request)) throw actorErrors.stateTransaction(`'' expected a map, got '${Array.isArray(request) ? 'slice' : typeof request}'`);
    const key = typeof request['key'] === 'string' ? request['key'] : '';
    if (key === '') throw actorErrors.stateTransaction('missing key');
    if (operation === 'delete') return { operation, key };
    const metadata = isObject(request['metadata'])
      ? Object.fromEntries(Object.entries(request['metadata']).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
      : undefined;
    // daprd's state stores JSON-encode a value that is not bytes: the value's JSON text is stored.
    const value = Buffer.from(JSON.stringify(request['value'] ?? null));
    return { operation, key, value, ...(metadata ? { metadata } : {}) };
  });
}

/** The actor routes. */
export function actorRoutes(actors: ActorsBlock): HttpRoute[] {
  const p = (req: HttpRequestContext, name: string) => req.params[name] ?? '';
  const base = '/v1.0/actors/:actorType/:actorId';
  return [
    {
      methods: ['POST', 'PUT'],
      path: `${base}/state`,
      group: 'actors',
      name: 'ExecuteActorStateTransaction',
      handler: async (req) => {
        // daprd checks that the actor is active before it looks at the operations.
        let ops: ActorStateOperation[] | undefined;
        let invalid: unknown;
        try {
          ops = decodeActorTransaction(req.body);
        } catch (err) {
          if ((err as { code?: string }).code !== 'ERR_ACTOR_STATE_TRANSACTION_SAVE') throw err;
          invalid = err;
        }
        if (!actors.runtime.isActive(p(req, 'actorType'), p(req, 'actorId'))) throw actorErrors.instanceMissing();
        if (invalid !== undefined || !ops) throw invalid;
        await actors.transact(p(req, 'actorType'), p(req, 'actorId'), ops);
        return noContent();
      },
    },
    {
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      path: `${base}/method/:method`,
      group: 'actors',
      name: 'InvokeActor',
      handler: async (req) => {
        const query = req.query.toString();
        const answer = await actors.invoke(p(req, 'actorType'), p(req, 'actorId'), p(req, 'method'), req.body, req.headers, query || undefined);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(answer.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        return { status: answer.status, headers, body: answer.body };
      },
    },
    {
      methods: ['GET'],
      path: `${base}/state/:key`,
      group: 'actors',
      name: 'GetActorState',
      handler: async (req) => {
        const value = await actors.getState(p(req, 'actorType'), p(req, 'actorId'), p(req, 'key'));
        if (!value || value.data.length === 0) return noContent();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        for (const [k, v] of Object.entries(value.metadata)) headers[`metadata.${k}`] = v;
        return { status: 200, headers, body: value.data };
      },
    },
    {
      methods: ['POST', 'PUT'],
      path: `${base}/reminders/:name`,
      group: 'actors',
      name: 'RegisterActorReminder',
      handler: async (req) => {
        const raw = parse(req.body);
        if (!isObject(raw)) throw actorErrors.malformed('json: cannot unmarshal into Go value of type api.CreateReminderRequest');
        const overwrite = raw['overwrite'];
        if (overwrite !== undefined && overwrite !== null && typeof overwrite !== 'boolean') throw actorErrors.malformed('json: cannot unmarshal into Go struct field .overwrite of type bool');
        const data = rawData(raw);
        await actors.createReminder({
          actorType: p(req, 'actorType'),
          actorId: p(req, 'actorId'),
          name: p(req, 'name'),
          dueTime: str(raw, 'dueTime'),
          period: str(raw, 'period'),
          ttl: str(raw, 'ttl'),
          data,
          ...(typeof overwrite === 'boolean' ? { overwrite } : {}),
        });
        return noContent();
      },
    },
    {
      methods: ['POST', 'PUT'],
      path: `${base}/timers/:name`,
      group: 'actors',
      name: 'RegisterActorTimer',
      handler: (req) => {
        const raw = parse(req.body);
        if (!isObject(raw)) throw actorErrors.malformed('json: cannot unmarshal into Go value of type api.CreateTimerRequest');
        actors.createTimer({
          actorType: p(req, 'actorType'),
          actorId: p(req, 'actorId'),
          name: p(req, 'name'),
          dueTime: str(raw, 'dueTime'),
          period: str(raw, 'period'),
          ttl: str(raw, 'ttl'),
          callback: str(raw, 'callback'),
          data: rawData(raw),
        });
        return noContent();
      },
    },
    {
      methods: ['DELETE'],
      path: `${base}/reminders/:name`,
      group: 'actors',
      name: 'UnregisterActorReminder',
      handler: async (req) => {
        await actors.deleteReminder(p(req, 'actorType'), p(req, 'actorId'), p(req, 'name'));
        return noContent();
      },
    },
    {
      methods: ['DELETE'],
      path: `${base}/timers/:name`,
      group: 'actors',
      name: 'UnregisterActorTimer',
      handler: (req) => {
        actors.deleteTimer(p(req, 'actorType'), p(req, 'actorId'), p(req, 'name'));
        return noContent();
      },
    },
    {
      methods: ['GET'],
      path: `${base}/reminders/:name`,
      group: 'actors',
      name: 'GetActorReminder',
      handler: async (req) => {
        const r = await actors.getReminder(p(req, 'actorType'), p(req, 'actorId'), p(req, 'name'));
        // Field order and names as daprd's GET answer (`actorID`, then data, dueTime, period, ttl).
        const parts = [`"actorID":${JSON.stringify(r.actorId)}`, `"actorType":${JSON.stringify(r.actorType)}`];
        if (r.data !== undefined) parts.push(`"data":${r.data}`);
        if (r.dueTime !== undefined) parts.push(`"dueTime":${JSON.stringify(r.dueTime)}`);
        if (r.period !== undefined) parts.push(`"period":${JSON.stringify(r.period)}`);
        if (r.ttl !== undefined) parts.push(`"ttl":${JSON.stringify(r.ttl)}`);
        return { status: 200, headers: { 'content-type': 'application/json' }, body: `{${parts.join(',')}}` };
      },
    },
  ];
}

