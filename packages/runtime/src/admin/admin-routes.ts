/**
 * The Weft admin API (`/v1.0-weft/admin/...`): what the dashboard needs that Dapr's API lacks — state
 * keys by prefix, recent pub/sub traffic with delivery outcomes, dead-letter replay, recent logs and
 * workflow rerun from a step (daprd serves that on gRPC only).
 * Routes are data like every other API group (group `admin`), so the `dapr-api-token` check, the
 * API allow-lists, metrics and tracing apply unchanged: with a token set, none of it answers without
 * the token. See docs/admin-api.md.
 */
import type { ComponentManager } from '../components/manager.js';
import type { PubSub } from '../components/pubsub/store.js';
import { commonErrors, errorMessage } from '../errors/index.js';
import type { StateBlock } from '../blocks/state/state-block.js';
import type { HttpRoute } from '../api/http/types.js';
import { jsonReply } from '../api/http/types.js';
import { adminErrors } from './admin-errors.js';
import type { PubSubTraffic } from './pubsub-traffic.js';
import type { RecentLogs } from './recent-logs.js';
import { previewText } from './ring.js';
import type { AdminInfo, AdminRerunResponse, AdminStateKeysPage, AdminWorkflowCounts } from './types.js';
import { parseJsonBody } from '../api/http/body.js';
import { filterFromQuery, traceHeaders } from '../blocks/workflows/http-routes.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import type { RerunRequest } from '../workflow/rerun.js';
import { healthOverview } from './workflow-health.js';
import type { AdminResources } from './resources-view.js';

/** The path prefix of every admin route. */
export const ADMIN_PREFIX = '/v1.0-weft/admin';

/** What the admin routes read. */
export interface AdminRoutesDeps {
  appId: string;
  startedAt: Date;
  state: StateBlock;
  components: ComponentManager;
  traffic: PubSubTraffic;
  /** Absent when the embedder gave its own logger without a tap. */
  logs?: RecentLogs | undefined;
  /** The Configuration, resiliency, subscriptions and access control in effect (the components page). */
  resources?: (() => AdminResources) | undefined;
  /** The workflow engine (counts, the health overview, reruns); its routes are absent without it. */
  workflows?: WorkflowEngine | undefined;
}

/**
 * Reads a rerun request body: `eventId` (required), `newInstanceId`, `input` (the step's new input as
 * serialized text, like the RPC's `StringValue`), `overwriteInput` (default: true when `input` is
 * given, as durabletask-go's `WithRerunInput` sets it) and `newChildWorkflowInstanceId`.
 */
export function rerunBody(sourceInstanceId: string, body: Buffer): RerunRequest {
  const raw = parseJsonBody(body);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw commonErrors.malformedRequest('expected a JSON object');
  const b = raw as Record<string, unknown>;
  const eventId = b['eventId'];
  if (typeof eventId !== 'number' || !Number.isInteger(eventId) || eventId < 0 || eventId > 0xffffffff) {
    throw commonErrors.badRequest('eventId must be a non-negative integer (the id of the step to rerun from)');
  }
  const text = (name: string): string | undefined => {
    const v = b[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw commonErrors.badRequest(`${name} must be a string`);
    return v;
  };
  const overwrite = b['overwriteInput'];
  if (overwrite !== undefined && typeof overwrite !== 'boolean') throw commonErrors.badRequest('overwriteInput must be a boolean');
  const input = text('input');
  const newInstanceId = text('newInstanceId');
  const newChild = text('newChildWorkflowInstanceId');
  return {
    sourceInstanceId,
    eventId,
    ...(newInstanceId ? { newInstanceId } : {}),
    ...(newChild ? { newChildWorkflowInstanceId: newChild } : {}),
    overwriteInput: overwrite ?? input !== undefined,
    input: input ?? null,
  };
}

/** The longest health-overview window: a week. */
const MAX_HEALTH_WINDOW_SECONDS = 7 * 24 * 3600;

/** Reads a positive integer query parameter within bounds. */
export function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw commonErrors.badRequest(`${name} must be an integer from 0 to ${max}`);
  return n;
}

/** `POST /v1.0-weft/admin/workflows/{instanceId}/rerun`: `RerunWorkflowFromEvent` over HTTP. */
function rerunRoute(engine: Pick<WorkflowEngine, 'rerun'>): HttpRoute {
  return {
    methods: ['POST'],
    path: `${ADMIN_PREFIX}/workflows/:instanceId/rerun`,
    group: 'admin',
    name: 'AdminRerunWorkflow',
    handler: async (req) => {
      const newInstanceID = await engine.rerun(rerunBody(req.params['instanceId'] ?? '', req.body), traceHeaders(req));
      return jsonReply(202, { newInstanceID } satisfies AdminRerunResponse);
    },
  };
}

/** The admin routes. */
export function adminRoutes(deps: AdminRoutesDeps): HttpRoute[] {
  const { state, traffic } = deps;
  const workflowEngine = (): WorkflowEngine => {
    if (!deps.workflows) throw adminErrors.workflowsUnavailable();
    return deps.workflows;
  };
  return [
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/info`,
      group: 'admin',
      name: 'AdminInfo',
      handler: () =>
        jsonReply(200, {
          appId: deps.appId,
          pid: process.pid,
          startedAt: deps.startedAt.toISOString(),
          listableStores: state.listableStores(),
        } satisfies AdminInfo),
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/state/:storeName/keys`,
      group: 'admin',
      name: 'AdminListStateKeys',
      handler: async (req) => {
        const store = req.params['storeName'] ?? '';
        const prefix = req.query.get('prefix') ?? '';
        const after = req.query.get('after') || undefined;
        const limit = Math.max(1, intParam(req.query, 'limit', 50, 1000));
        const maxValueBytes = intParam(req.query, 'maxValueBytes', 4096, 1024 * 1024);
        // One more than asked tells whether a next page exists without a count query.
        const rows = await state.listKeys(store, prefix, after, limit + 1);
        if (!rows) throw adminErrors.keyListingUnsupported(store);
        const page = rows.slice(0, limit);
        const body: AdminStateKeysPage = {
          store,
          prefix,
          keys: page.map(({ key, item }) => ({
            key,
            etag: item.etag,
            value: previewText(item.value, maxValueBytes).replace(/…$/, ''),
            size: item.value.length,
            truncated: item.value.length > maxValueBytes,
            ...(item.expiresAt ? { ttlExpireTime: item.expiresAt.toISOString() } : {}),
            ...(item.contentType ? { contentType: item.contentType } : {}),
          })),
          ...(rows.length > limit && page.length > 0 ? { next: page[page.length - 1]!.key } : {}),
        };
        return jsonReply(200, body);
      },
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/pubsub/traffic`,
      group: 'admin',
      name: 'AdminPubSubTraffic',
      handler: (req) => {
        const topic = req.query.get('topic') || undefined;
        const pubsubName = req.query.get('pubsubName') || undefined;
        const entries = traffic.recent({
          ...(topic ? { topic } : {}),
          ...(pubsubName ? { pubsubName } : {}),
          afterSeq: intParam(req.query, 'afterSeq', 0, Number.MAX_SAFE_INTEGER),
          limit: intParam(req.query, 'limit', 200, 1000),
        });
        return jsonReply(200, { entries });
      },
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/pubsub/deadletters`,
      group: 'admin',
      name: 'AdminListDeadLetters',
      handler: () => jsonReply(200, { deadLetters: traffic.listDeadLetters() }),
    },
    {
      methods: ['POST'],
      path: `${ADMIN_PREFIX}/pubsub/deadletters/:id/replay`,
      group: 'admin',
      name: 'AdminReplayDeadLetter',
      handler: async (req) => {
        const id = req.params['id'] ?? '';
        const entry = traffic.deadLetter(id);
        if (!entry) throw adminErrors.deadLetterNotFound(id);
        const component = deps.components.get(entry.pubsubName);
        if (!component || component.kind !== 'pubsub') throw adminErrors.replay(id, `pubsub ${entry.pubsubName} is not loaded`);
        const { message } = entry;
        try {
          // The stored bytes are the original CloudEvent: the app sees the same event id again.
          await (component.instance as PubSub).publish({
            topic: entry.topic,
            data: message.data,
            metadata: message.metadata,
            ...(message.contentType ? { contentType: message.contentType } : {}),
          });
        } catch (err) {
          throw adminErrors.replay(id, errorMessage(err));
        }
        entry.replays += 1;
        return jsonReply(200, { id, topic: entry.topic, pubsubName: entry.pubsubName, replays: entry.replays });
      },
    },
    ...(deps.workflows ? [rerunRoute(deps.workflows)] : []),
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/resources`,
      group: 'admin',
      name: 'AdminResources',
      handler: () => {
        if (!deps.resources) throw adminErrors.resourcesUnavailable();
        return jsonReply(200, deps.resources());
      },
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/workflows/counts`,
      group: 'admin',
      name: 'AdminWorkflowCounts',
      handler: async (req) => {
        // The list API's filters; the counts are exact (an index scan, not a page walk).
        const counts = await workflowEngine().count(filterFromQuery(req.query));
        const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
        return jsonReply(200, { counts, total } satisfies AdminWorkflowCounts);
      },
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/workflows/health`,
      group: 'admin',
      name: 'AdminWorkflowHealth',
      handler: async (req) => {
        const windowSeconds = Math.max(1, intParam(req.query, 'windowSeconds', 3600, MAX_HEALTH_WINDOW_SECONDS));
        const now = new Date();
        const recent = await workflowEngine().recent(new Date(now.getTime() - windowSeconds * 1000));
        return jsonReply(200, healthOverview(recent, now, windowSeconds));
      },
    },
    {
      methods: ['GET'],
      path: `${ADMIN_PREFIX}/logs`,
      group: 'admin',
      name: 'AdminRecentLogs',
      handler: (req) => {
        const level = req.query.get('level') || undefined;
        const text = req.query.get('text') || undefined;
        const entries =
          deps.logs?.recent({
            ...(level ? { level } : {}),
            ...(text ? { text } : {}),
            afterSeq: intParam(req.query, 'afterSeq', 0, Number.MAX_SAFE_INTEGER),
            limit: intParam(req.query, 'limit', 500, 2000),
          }) ?? [];
        return jsonReply(200, { entries, available: deps.logs !== undefined });
      },
    },
  ];
}
