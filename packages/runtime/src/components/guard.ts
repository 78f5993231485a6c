/**
 * Wraps a loaded component so every call into it runs under its outbound resiliency policy and is
 * recorded in the component metrics, without the building blocks knowing either exists. Errors that
 * describe the request rather than the backend (etag mismatch, unknown secret, bad query) are
 * neither retried nor counted against the circuit breaker.
 */
import type { WeftMetrics } from '../observability/metrics.js';
import type { ComponentMetricKind } from '../observability/metrics.js';
import { markPermanent } from '../resiliency/policy.js';
import type { PolicyRunner } from '../resiliency/policy.js';
import type { Resiliency } from '../resiliency/resiliency.js';
import type { Component } from './component.js';
import type { LoadedComponent } from './manager.js';
import { SecretNotFoundError } from './secretstores/store.js';
import { QueryParseError } from './state/query.js';
import { ETagInvalidError, ETagMismatchError } from './state/store.js';

/** Methods of each kind that reach the backend, with Dapr's `operation` metric label. */
const OPERATIONS: Partial<Record<string, { metric: ComponentMetricKind | 'pubsub' | undefined; ops: Record<string, string> }>> = {
  state: {
    metric: 'state',
    ops: { get: 'get', set: 'set', delete: 'delete', bulkGet: 'bulk_get', bulkSet: 'bulk_set', bulkDelete: 'bulk_delete', multi: 'transaction', query: 'query' },
  },
  secretstores: { metric: 'secret', ops: { getSecret: 'get', bulkGetSecret: 'bulk_get' } },
  // Wrapping and unwrapping the file key are what daprd counts for encrypt/decrypt (`crypto_op`).
  crypto: { metric: 'crypto', ops: { wrapKey: 'crypto_op', unwrapKey: 'crypto_op', getKey: 'get' } },
  // daprd's `dapr_component_configuration_*` operations: `get` and `subscribe` (a watch starting).
  configuration: { metric: 'configuration', ops: { get: 'get', watch: 'subscribe' } },
  // daprd runs lock calls under the outbound policy but has no lock component metric.
  lock: { metric: undefined, ops: { tryLock: 'try_lock', unlock: 'unlock' } },
  // Publishing only: deliveries run under the inbound policy in the subscriber.
  pubsub: { metric: 'pubsub', ops: { publish: 'publish', bulkPublish: 'bulk_publish' } },
};

/** The topic of a `publish(request)` or `bulkPublish(entries)` call, for the egress metric. */
function topicOf(args: readonly unknown[]): string {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  const topic = typeof first === 'object' && first !== null ? (first as { topic?: unknown }).topic : undefined;
  return typeof topic === 'string' ? topic : '';
}

const isRequestError = (err: unknown) =>
  err instanceof ETagMismatchError || err instanceof ETagInvalidError || err instanceof SecretNotFoundError || err instanceof QueryParseError;

/** What the guard needs. */
export interface ComponentGuardDeps {
  resiliency?: Resiliency;
  metrics?: WeftMetrics;
}

/**
 * Property of a guarded pub/sub component that gives the same component under the same policy but
 * without the single-publish egress metric: bulk publishing falls back to one `publish` per entry on
 * drivers without a bulk method, and daprd counts those only in the bulk metrics.
 */
export const WITHOUT_EGRESS_METRIC: unique symbol = Symbol('weft.withoutEgressMetric');

/** The component to publish bulk entries one by one with (see {@link WITHOUT_EGRESS_METRIC}). */
export function withoutEgressMetric<T extends object>(instance: T): T {
  return (instance as { [WITHOUT_EGRESS_METRIC]?: T })[WITHOUT_EGRESS_METRIC] ?? instance;
}

/** Returns the instance to serve requests with: the original when nothing applies, else a proxy. */
export function guardComponent(component: LoadedComponent, deps: ComponentGuardDeps): Component {
  const spec = OPERATIONS[component.kind];
  if (!spec) return component.instance;
  const policy: PolicyRunner | undefined = deps.resiliency?.policyFor({
    kind: 'component',
    name: component.name,
    direction: 'outbound',
    componentKind: component.kind,
  });
  const { metrics } = deps;
  if ((!policy || policy.isNoop) && !metrics) return component.instance;
  // The manager replaces `component.instance` with what this returns: keep the driver itself.
  const instance = component.instance;
  const guarded = guardedProxy(component.name, instance, spec, policy, metrics);
  if (spec.metric !== 'pubsub' || !metrics) return guarded;
  let unmetered: Component | undefined;
  return new Proxy(guarded, {
    get(target, prop, receiver) {
      if (prop === WITHOUT_EGRESS_METRIC) return (unmetered ??= guardedProxy(component.name, instance, spec, policy, undefined));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

function guardedProxy(
  name: string,
  instance: Component,
  spec: NonNullable<(typeof OPERATIONS)[string]>,
  policy: PolicyRunner | undefined,
  metrics: WeftMetrics | undefined,
): Component {
  const wrapped = new Map<string, unknown>();
  return new Proxy(instance, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const operation = spec.ops[prop];
      if (!operation) return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const original = value as (...args: unknown[]) => Promise<unknown>;
        fn = async (...args: unknown[]) => {
          const started = performance.now();
          const call = () =>
            original.apply(target, args).catch((err: unknown) => {
              throw isRequestError(err) && typeof err === 'object' && err !== null ? markPermanent(err) : err;
            });
          const record = (success: boolean) => {
            const elapsed = performance.now() - started;
            // A bulk publish is counted by the publisher in the bulk metrics, as daprd does.
            if (spec.metric === 'pubsub') {
              if (prop !== 'bulkPublish') metrics?.recordPubsubEgress(name, topicOf(args), success, elapsed);
            } else if (spec.metric) metrics?.recordComponentOp(spec.metric, name, operation, success, elapsed);
          };
          try {
            const result = policy && !policy.isNoop ? await policy.execute(call) : await call();
            record(true);
            return result;
          } catch (err) {
            record(false);
            throw err;
          }
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
