/**
 * Names, attributes and statuses of API spans as daprd writes them (`pkg/diagnostics/http_tracing.go`,
 * `grpc_tracing.go`, `consts/consts.go` and the endpoint groups' `AppendSpanAttributes`):
 *
 * - HTTP: the span is named by the request path, except invocation (`CallLocal/<app-id>/<method>`);
 *   `dapr.api` = `<METHOD> <path>`, `dapr.protocol` = `http`, `dapr.status_code`; state, secrets and
 *   bindings add `db.system`/`db.name`/`db.statement`/`db.connection_string`, publishing adds
 *   `messaging.system`/`messaging.destination`/`messaging.destination_kind`, invocation adds
 *   `rpc.service` = `ServiceInvocation` and `net.peer.name` = target. A status of 400 or more is an
 *   error described as `Code(<status>): <text>`.
 * - gRPC: the span is named by the full method, except `InvokeService` (`CallLocal/<id>/<method>`);
 *   `dapr.api` = full method, `dapr.protocol` = `grpc`, plus the same building-block attributes.
 * - Both: request headers (metadata) starting with `dapr-` become attributes (users add them to see
 *   values in traces), binary `-bin` metadata excepted.
 *
 * Span kinds are Weft's, not daprd's: daprd marks its API spans CLIENT (it acts for the app); Weft
 * marks them SERVER and adds a CLIENT span for each call the sidecar makes, so a trace reads app →
 * sidecar (server) → sidecar (client) → next sidecar (server) → … with a kind per hop.
 */
import { STATUS_CODES } from 'node:http';
import type { AttributeValue } from './tracing.js';

/** Attribute keys (OpenTelemetry semantic conventions v1.10, as daprd pins them). */
export const ATTR = {
  dbSystem: 'db.system',
  dbName: 'db.name',
  dbStatement: 'db.statement',
  dbConnectionString: 'db.connection_string',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination',
  messagingDestinationKind: 'messaging.destination_kind',
  rpcService: 'rpc.service',
  netPeerName: 'net.peer.name',
  daprApi: 'dapr.api',
  daprStatusCode: 'dapr.status_code',
  daprProtocol: 'dapr.protocol',
  daprInvokeMethod: 'dapr.invoke_method',
} as const;

/** What an API span ends with. */
export interface ApiSpanDetails {
  name: string;
  attributes: Record<string, AttributeValue | undefined>;
  error: boolean;
  message?: string;
}

/** daprd's status description of an HTTP status of 400 or more, e.g. `Code(404): Not Found`. */
export function httpStatusMessage(status: number): string | undefined {
  if (status < 400) return undefined;
  return `Code(${status}): ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** `dapr-` prefixed headers (or metadata), last value of each, binary ones excepted. */
export function daprPrefixedAttributes(headers: Record<string, string | string[] | Buffer | Buffer[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(headers)) {
    const key = raw.toLowerCase();
    if (!key.startsWith('dapr-') || key.endsWith('-bin') || key === 'dapr-api-token' || value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof last === 'string') out[key] = last;
  }
  return out;
}

function blockAttributes(system: string, name: string | undefined, statement: string): Record<string, string | undefined> {
  return { [ATTR.dbSystem]: system, [ATTR.dbConnectionString]: system, [ATTR.dbStatement]: statement, [ATTR.dbName]: name };
}

function topicAttributes(topic: string | undefined): Record<string, string | undefined> {
  return { [ATTR.messagingSystem]: 'pubsub', [ATTR.messagingDestination]: topic, [ATTR.messagingDestinationKind]: 'topic' };
}

/** What the HTTP server knows about a finished request. */
export interface HttpApiRequest {
  method: string;
  path: string;
  /** The matched route's API group (`state`, `publish` …), if a route matched. */
  group?: string | undefined;
  params?: Readonly<Record<string, string>> | undefined;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The invocation target, when the request was a service invocation. */
  invoke?: { appId: string; method: string } | undefined;
}

/** Name, attributes and status of an HTTP API span. */
export function httpApiSpan(req: HttpApiRequest): ApiSpanDetails {
  const api = `${req.method} ${req.path}`;
  const params = req.params ?? {};
  let name = req.path;
  let block: Record<string, string | undefined> = {};
  if (req.invoke) {
    name = `CallLocal/${req.invoke.appId}/${req.invoke.method.replace(/^\/+/, '')}`;
    block = { [ATTR.rpcService]: 'ServiceInvocation', [ATTR.netPeerName]: req.invoke.appId };
  } else if (req.group === 'state') {
    block = blockAttributes('state', params['storeName'], api);
  } else if (req.group === 'secrets') {
    block = blockAttributes('secrets', params['storeName'], api);
  } else if (req.group === 'bindings') {
    block = blockAttributes('bindings', params['name'], api);
  } else if (req.group === 'publish') {
    const rest = params['*'] ?? '';
    block = topicAttributes(rest.includes('/') ? rest.slice(rest.indexOf('/') + 1) : undefined);
  }
  const message = httpStatusMessage(req.status);
  return {
    name,
    attributes: {
      ...daprPrefixedAttributes(req.headers),
      ...block,
      [ATTR.daprProtocol]: 'http',
      [ATTR.daprApi]: api,
      [ATTR.daprStatusCode]: String(req.status),
    },
    error: message !== undefined,
    ...(message ? { message } : {}),
  };
}

const DAPR_SERVICE = '/dapr.proto.runtime.v1.Dapr/';

/** Name and attributes of a gRPC API span (status comes from the call's outcome). */
export function grpcApiSpan(fullMethod: string, request: unknown, metadata: Record<string, string | string[] | Buffer | Buffer[] | undefined>): Omit<ApiSpanDetails, 'error'> {
  const r = (request ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  let name = fullMethod;
  let block: Record<string, string | undefined> = {};
  const method = fullMethod.startsWith(DAPR_SERVICE) ? fullMethod.slice(DAPR_SERVICE.length) : '';
  if (method === 'InvokeService') {
    const id = str(r['id']) ?? '';
    const inner = (r['message'] ?? {}) as Record<string, unknown>;
    name = `CallLocal/${id}/${str(inner['method']) ?? ''}`;
    block = { [ATTR.rpcService]: 'ServiceInvocation', [ATTR.netPeerName]: id };
  } else if (method === 'PublishEvent' || method.startsWith('BulkPublishEvent')) {
    block = { [ATTR.rpcService]: 'Dapr', ...topicAttributes(str(r['topic'])) };
  } else if (method === 'InvokeBinding') {
    block = { [ATTR.rpcService]: 'Dapr', ...blockAttributes('bindings', str(r['name']), fullMethod) };
  } else if (['GetState', 'SaveState', 'DeleteState', 'GetBulkState', 'ExecuteStateTransaction', 'DeleteBulkState'].includes(method)) {
    block = { [ATTR.rpcService]: 'Dapr', ...blockAttributes('state', str(r['store_name']) ?? str(r['storeName']), fullMethod) };
  } else if (method === 'GetSecret' || method === 'GetBulkSecret') {
    block = { [ATTR.rpcService]: 'Dapr', ...blockAttributes('secrets', str(r['store_name']), fullMethod) };
  }
  return {
    name,
    attributes: { ...daprPrefixedAttributes(metadata), ...block, [ATTR.daprProtocol]: 'grpc', [ATTR.daprApi]: fullMethod },
  };
}
