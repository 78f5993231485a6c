/**
 * The API allow/deny lists (Configuration `spec.api`). Rules apply per protocol: with no rule for a
 * protocol, every API of it is enabled; a non-empty `allowed` list enables only what it names; a
 * `denied` rule wins over an `allowed` one. HTTP versions are path segments (`v1.0`, `v1.0-alpha1`);
 * gRPC versions are `v1`, `v1alpha1`, `v1beta1` …, derived from the method name's suffix.
 */
import type { ApiRule } from './configuration.js';

/** One API endpoint as the lists see it. */
export interface ApiEndpoint {
  group: string;
  version: string;
  protocol: 'http' | 'grpc';
}

/** Decides whether an endpoint is enabled. */
export type ApiAccessCheck = (endpoint: ApiEndpoint) => boolean;

const matches = (rules: readonly ApiRule[], e: ApiEndpoint) => rules.some((r) => r.name === e.group && r.version === e.version);

/** Builds the check for the configured rules. */
export function apiAccessCheck(allowed: readonly ApiRule[], denied: readonly ApiRule[]): ApiAccessCheck {
  return (endpoint) => {
    const allow = allowed.filter((r) => r.protocol === endpoint.protocol);
    const deny = denied.filter((r) => r.protocol === endpoint.protocol);
    if (allow.length > 0 && !matches(allow, endpoint)) return false;
    return !matches(deny, endpoint);
  };
}

/** The API version of an HTTP route: its first path segment (`/v1.0-alpha1/state/…` → `v1.0-alpha1`). */
export function httpRouteVersion(routePath: string): string {
  return routePath.split('/')[1] ?? '';
}

/** Method-name patterns of `dapr.proto.runtime.v1.Dapr` and the API group each belongs to. */
const GRPC_GROUPS: readonly [RegExp, string][] = [
  [/^(GetState|GetBulkState|SaveState|QueryState|DeleteState|DeleteBulkState|ExecuteStateTransaction)$/, 'state'],
  [/^(GetSecret|GetBulkSecret)$/, 'secrets'],
  [/^(GetMetadata|SetMetadata)$/, 'metadata'],
  [/^Shutdown$/, 'shutdown'],
  [/^InvokeService$/, 'invoke'],
  [/^(PublishEvent|BulkPublishEvent|SubscribeTopicEvents)$/, 'publish'],
  [/^InvokeBinding$/, 'bindings'],
  [/Actor|Reminder|Timer/, 'actors'],
  [/Configuration$/, 'configuration'],
  [/^TryLock$/, 'lock'],
  [/^Unlock$/, 'unlock'],
  [/^Subtle/, 'subtlecrypto'],
  [/^(Encrypt|Decrypt)$/, 'crypto'],
  [/Workflow/, 'workflows'],
  [/Job/, 'jobs'],
  [/^Converse$/, 'conversation'],
];

/** Maps a gRPC method name (`QueryStateAlpha1`) to its API group and version (`state`, `v1alpha1`). */
export function grpcMethodEndpoint(method: string): ApiEndpoint {
  const suffix = /(Alpha\d+|Beta\d+)$/.exec(method)?.[1];
  const base = suffix ? method.slice(0, -suffix.length) : method;
  const group = GRPC_GROUPS.find(([pattern]) => pattern.test(base))?.[1] ?? base.toLowerCase();
  return { group, version: suffix ? `v1${suffix.toLowerCase()}` : 'v1', protocol: 'grpc' };
}
