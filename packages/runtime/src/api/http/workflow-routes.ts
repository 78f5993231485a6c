/**
 * The workflow management API: Dapr's routes under `v1.0`, `v1.0-beta1` and `v1.0-alpha1`
 * (`/workflows/dapr/...`) with its exact 202 bodies and error codes, plus Weft extensions on the same
 * prefixes: list instances with filters and paging (`GET /workflows/dapr`), the full history
 * (`GET /workflows/dapr/{id}/history`) and purge by filter (`DELETE /workflows/dapr?...`). All of it
 * reads and writes the store directly, so it works with no app attached.
 */
import { commonErrors, isApiError, workflowErrors } from '../../errors/index.js';
import type { InstanceFilter } from '../../workflow/backend.js';
import type { WorkflowEngine } from '../../workflow/engine.js';
import { historyEventJson, instanceJson } from '../../workflow/history-json.js';
import type { WorkflowStatus } from '../../workflow/types.js';
import { WORKFLOW_STATUSES, isTerminal } from '../../workflow/types.js';
import type { HttpRequestContext, HttpRoute } from './types.js';
import { jsonReply } from './types.js';

const VERSIONS = ['v1.0', 'v1.0-beta1', 'v1.0-alpha1'] as const;
const MAX_INSTANCE_ID = 64;
const VALID_ID = /^[A-Za-z0-9_-]+$/;

/** Dapr's start-time instance id rules. */
export function validateInstanceId(id: string): void {
  if (id.length > MAX_INSTANCE_ID) throw workflowErrors.instanceIdTooLong(MAX_INSTANCE_ID);
  if (!VALID_ID.test(id)) throw workflowErrors.instanceIdInvalid(id);
}

function component(req: HttpRequestContext): void {
  const name = req.params['component'] ?? '';
  if (name === '') throw workflowErrors.componentMissing();
  if (name !== 'dapr') throw workflowErrors.componentNotFound(name);
}

function instanceId(req: HttpRequestContext): string {
  component(req);
  const id = req.params['id'] ?? '';
  if (id === '') throw workflowErrors.instanceIdMissing();
  return id;
}

function bodyText(req: HttpRequestContext): string | null {
  return req.body.length === 0 ? null : req.body.toString('utf8');
}

/** Wraps unexpected failures in the operation's Dapr error. */
async function guarded<T>(run: () => Promise<T>, wrap: (detail: string) => Error): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isApiError(err)) throw err;
    throw wrap(err instanceof Error ? err.message : String(err));
  }
}

function parseDate(query: URLSearchParams, name: string): Date | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) throw commonErrors.badRequest(`query parameter ${name}: expected an RFC 3339 timestamp, got "${raw}"`);
  return date;
}

/** Reads `status` (repeatable or comma-separated), `name`, `idPrefix`, `createdFrom`, `createdTo`. */
export function filterFromQuery(query: URLSearchParams): InstanceFilter {
  const filter: InstanceFilter = {};
  const statuses = query
    .getAll('status')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  for (const s of statuses) {
    if (!(WORKFLOW_STATUSES as readonly string[]).includes(s)) throw commonErrors.badRequest(`unknown workflow status "${s}"; known: ${WORKFLOW_STATUSES.join(', ')}`);
  }
  if (statuses.length > 0) filter.statuses = statuses as WorkflowStatus[];
  const name = query.get('name');
  if (name) filter.name = name;
  const prefix = query.get('idPrefix');
  if (prefix) filter.instanceIdPrefix = prefix;
  const from = parseDate(query, 'createdFrom');
  const to = parseDate(query, 'createdTo');
  if (from) filter.createdFrom = from;
  if (to) filter.createdTo = to;
  return filter;
}

/** The request's trace context (the API span's, set by the server). */
export function traceHeaders(req: HttpRequestContext): { traceparent?: string; tracestate?: string } {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const traceparent = first(req.headers['traceparent']);
  const tracestate = first(req.headers['tracestate']);
  return { ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) };
}

/** The workflow routes for every API version prefix. */
export function workflowRoutes(engine: WorkflowEngine): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const v of VERSIONS) {
    const base = `/${v}/workflows/:component`;
    routes.push(
      {
        methods: ['POST'],
        path: `${base}/:id/start`,
        group: 'workflows',
        name: 'StartWorkflow',
        handler: async (req) => {
          component(req);
          const name = req.params['id'] ?? '';
          if (name === '') throw workflowErrors.nameMissing();
          const given = req.query.get('instanceID');
          if (given !== null && given !== '') validateInstanceId(given);
          const id = await guarded(
            () => engine.start({ ...(given ? { instanceId: given } : {}), name, input: bodyText(req), trace: traceHeaders(req) }),
            (d) => workflowErrors.start(given ?? '', d),
          );
          return jsonReply(202, { instanceID: id });
        },
      },
      {
        methods: ['GET'],
        path: `${base}/:id`,
        group: 'workflows',
        name: 'GetWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const instance = await guarded(() => engine.get(id), (d) => workflowErrors.get(id, d));
          if (!instance) throw workflowErrors.instanceNotFound(id);
          return jsonReply(200, instanceJson(instance));
        },
      },
      {
        methods: ['POST'],
        path: `${base}/:id/terminate`,
        group: 'workflows',
        name: 'TerminateWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const found = await guarded(() => engine.terminate(id, null), (d) => workflowErrors.terminate(id, d));
          if (!found) throw workflowErrors.instanceNotFound(id);
          return jsonReply(202, {});
        },
      },
      {
        methods: ['POST'],
        path: `${base}/:id/raiseEvent/:eventName`,
        group: 'workflows',
        name: 'RaiseEventWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const eventName = req.params['eventName'] ?? '';
          if (eventName === '') throw workflowErrors.eventNameMissing();
          const found = await guarded(() => engine.raiseEvent(id, eventName, bodyText(req)), (d) => workflowErrors.raiseEvent(id, d));
          if (!found) throw workflowErrors.raiseEvent(id, 'no such instance exists');
          return jsonReply(202, {});
        },
      },
      {
        methods: ['POST'],
        path: `${base}/:id/pause`,
        group: 'workflows',
        name: 'PauseWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const found = await guarded(() => engine.setSuspended(id, true), (d) => workflowErrors.pause(id, d));
          if (!found) throw workflowErrors.pause(id, 'no such instance exists');
          return jsonReply(202, {});
        },
      },
      {
        methods: ['POST'],
        path: `${base}/:id/resume`,
        group: 'workflows',
        name: 'ResumeWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const found = await guarded(() => engine.setSuspended(id, false), (d) => workflowErrors.resume(id, d));
          if (!found) throw workflowErrors.resume(id, 'no such instance exists');
          return jsonReply(202, {});
        },
      },
      {
        methods: ['POST'],
        path: `${base}/:id/purge`,
        group: 'workflows',
        name: 'PurgeWorkflow',
        handler: async (req) => {
          const id = instanceId(req);
          const count = await guarded(() => engine.purge(id), (d) => workflowErrors.purge(id, d));
          if (count === undefined) throw workflowErrors.instanceNotFound(id);
          return jsonReply(202, {});
        },
      },
      {
        methods: ['GET'],
        path: base,
        group: 'workflows',
        name: 'ListWorkflows',
        handler: async (req) => {
          component(req);
          const filter = filterFromQuery(req.query);
          const pageSize = Number(req.query.get('pageSize') ?? '100');
          if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw commonErrors.badRequest('pageSize must be an integer from 1 to 1000');
          const token = req.query.get('continuationToken') ?? undefined;
          const page = await engine.list(filter, pageSize, token);
          // From the periodic stuck scan: a page never scans the instance table.
          const stuck = engine.stuckSnapshotMap;
          return jsonReply(200, {
            // Weft's own extension of the listing: Dapr's GET body stays exact.
            instances: page.instances.map((i) => {
              const since = isTerminal(i.status) ? undefined : stuck.get(i.instanceId);
              // A parked instance terminated meanwhile is no longer waiting.
              const waiting = i.status === 'PENDING' && engine.waitingForWorker.has(i.instanceId);
              return {
                ...instanceJson(i),
                ...(since ? { stuck: true, stuckSince: since.toISOString() } : {}),
                ...(waiting ? { waitingForWorker: true } : {}),
              };
            }),
            ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
          });
        },
      },
      {
        methods: ['GET'],
        path: `${base}/:id/history`,
        group: 'workflows',
        name: 'GetWorkflowHistory',
        handler: async (req) => {
          const id = instanceId(req);
          const instance = await engine.get(id);
          if (!instance) throw workflowErrors.instanceNotFound(id);
          const history = await engine.history(id);
          return jsonReply(200, { instanceID: id, history: history.map(historyEventJson) });
        },
      },
      {
        methods: ['DELETE'],
        path: base,
        group: 'workflows',
        name: 'PurgeWorkflows',
        handler: async (req) => {
          component(req);
          const filter = filterFromQuery(req.query);
          const olderThan = req.query.get('olderThan');
          if (olderThan) {
            const ms = Number(olderThan);
            if (!Number.isFinite(ms) || ms < 0) throw commonErrors.badRequest('olderThan must be a number of milliseconds');
            filter.createdTo = new Date(Date.now() - ms);
          }
          const deleted = await guarded(() => engine.purgeWhere(filter), (d) => workflowErrors.purge('(filter)', d));
          return jsonReply(200, { deletedInstanceCount: deleted });
        },
      },
    );
  }
  return routes;
}
