/**
 * Resiliency policies from every `kind: Resiliency` document in the resources paths, resolved per
 * target with Dapr's precedence (`pkg/resiliency/resiliency.go`):
 *
 * 1. a named target (`targets.apps.<id>`, `targets.components.<name>.outbound|inbound`) supplies
 *    exactly the policies it names;
 * 2. otherwise each of timeout, retry and circuit breaker falls back separately to the first defined
 *    of `Default<Type>Component<Dir><Kind>Policy`, `DefaultComponent<Dir><Kind>Policy`,
 *    `DefaultComponent<Kind>Policy`, then `Default<Kind>Policy` (apps: `DefaultApp<Kind>Policy`).
 *
 * Breakers keep state: one per component name, one per app endpoint. The built-in retries
 * (`DaprBuiltInServiceRetries` …) exist even when no document defines them and may only be
 * strengthened (a `maxRetries` below 3 is raised to 3, as in Dapr).
 *
 * Seam for the blocks still being built: `policyFor({kind: 'app', name: appId, endpoint})` for service
 * invocation, `policyFor({kind: 'component', name, direction: 'outbound', componentKind: 'pubsub'})` for
 * publish, `direction: 'inbound'` for delivery to the app and input bindings; then `execute(fn)`.
 */
import type { LoadedDocument } from '../resources/loader.js';
import { ResourceError } from '../resources/loader.js';
import type { Logger } from '../logging/logger.js';
import { durationField } from '../resources/duration-field.js';
import type { z } from 'zod';
import { CircuitBreaker, compileTrip } from './circuit-breaker.js';
import type { CircuitBreakerSettings } from './circuit-breaker.js';
import { Policy, noopPolicy } from './policy.js';
import type { FlowDirection, PolicyRunner, ResiliencyObserver } from './policy.js';
import { RETRY_DEFAULTS, parseStatusCodes } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { schemas } from './resiliency-schema.js';
import type { PolicyNames, ResiliencyResource, RetrySpec } from './resiliency-schema.js';

/** Component kinds as Dapr names them in `Default…Policy` names. */
export type ResiliencyComponentType = 'Statestore' | 'Secretstore' | 'Pubsub' | 'Binding' | 'Configuration' | 'Lock' | 'Crypto';

const COMPONENT_TYPES: Record<string, ResiliencyComponentType> = {
  state: 'Statestore',
  secretstores: 'Secretstore',
  pubsub: 'Pubsub',
  bindings: 'Binding',
  configuration: 'Configuration',
  lock: 'Lock',
  crypto: 'Crypto',
};

/** Maps a component kind (`state`, the part before the dot of `state.redis`) to Dapr's resiliency type. */
export function resiliencyComponentType(kind: string): ResiliencyComponentType | undefined {
  return COMPONENT_TYPES[kind];
}

/** What a caller asks a policy for. */
export type PolicyTarget =
  | { kind: 'app'; name: string; endpoint?: string }
  | { kind: 'component'; name: string; direction: FlowDirection; componentKind: string };

/** Built-in retry names. */
export const BUILT_IN_RETRIES = {
  DaprBuiltInServiceRetries: { ...RETRY_DEFAULTS, policy: 'constant', maxRetries: 3, durationMs: 1000 },
  DaprBuiltInActorRetries: { ...RETRY_DEFAULTS, policy: 'constant', maxRetries: 3, durationMs: 1000 },
  DaprBuiltInActorReminderRetries: { ...RETRY_DEFAULTS, policy: 'exponential', maxIntervalMs: 60_000, maxElapsedMs: 900_000 },
  DaprBuiltInActorNotFoundRetries: { ...RETRY_DEFAULTS, policy: 'constant', maxRetries: 5, durationMs: 1000 },
  DaprBuiltInInitializationRetries: {
    ...RETRY_DEFAULTS,
    policy: 'exponential',
    maxRetries: 3,
    maxIntervalMs: 1000,
    maxElapsedMs: 10_000,
    durationMs: 2000,
  },
} satisfies Record<string, Omit<RetryPolicy, 'name'>>;

/** Options of {@link Resiliency}. */
export interface ResiliencyOptions {
  logger: Logger;
  observer?: ResiliencyObserver;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

function ms(file: string, field: string, value: string | number): number {
  return durationField(file, field, value, 1);
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const parts = issue.path.map(String);
  return issue.code === 'unrecognized_keys' ? [...parts, issue.keys.join(', ')].join('.') : parts.join('.');
}

/** Validates one Resiliency document. */
export function parseResiliency(file: string, doc: unknown): ResiliencyResource {
  const result = schemas().resiliencySchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    throw new ResourceError(file, fieldOf(issue), issue.message);
  }
  return result.data;
}

function retryFrom(file: string, name: string, spec: RetrySpec): RetryPolicy {
  const f = `spec.policies.retries.${name}`;
  let http: [number, number][] = [];
  let grpc: [number, number][] = [];
  try {
    http = spec.matching?.httpStatusCodes ? parseStatusCodes(spec.matching.httpStatusCodes, 100, 599) : [];
  } catch (err) {
    throw new ResourceError(file, `${f}.matching.httpStatusCodes`, (err as Error).message);
  }
  try {
    grpc = spec.matching?.gRPCStatusCodes ? parseStatusCodes(spec.matching.gRPCStatusCodes, 0, 16) : [];
  } catch (err) {
    throw new ResourceError(file, `${f}.matching.gRPCStatusCodes`, (err as Error).message);
  }
  const d = RETRY_DEFAULTS;
  return {
    name,
    policy: spec.policy ?? d.policy,
    durationMs: spec.duration === undefined ? d.durationMs : ms(file, `${f}.duration`, spec.duration),
    initialIntervalMs: spec.initialInterval === undefined ? d.initialIntervalMs : ms(file, `${f}.initialInterval`, spec.initialInterval),
    maxIntervalMs: spec.maxInterval === undefined ? d.maxIntervalMs : ms(file, `${f}.maxInterval`, spec.maxInterval),
    maxElapsedMs: spec.maxElapsedTime === undefined ? d.maxElapsedMs : ms(file, `${f}.maxElapsedTime`, spec.maxElapsedTime),
    maxRetries: spec.maxRetries ?? d.maxRetries,
    multiplier: spec.multiplier ?? d.multiplier,
    randomizationFactor: spec.randomizationFactor ?? d.randomizationFactor,
    httpStatusCodes: http,
    grpcStatusCodes: grpc,
  };
}

/** The fallback levels of an app target's `Default…Policy` names. */
const APP_LEVELS = ['App'] as const;

/** All resiliency policies of one sidecar. */
export class Resiliency {
  private readonly timeouts = new Map<string, number>();
  private readonly retries = new Map<string, RetryPolicy>();
  private readonly breakers = new Map<string, CircuitBreakerSettings>();
  private readonly apps = new Map<string, PolicyNames & { cacheSize: number }>();
  private readonly components = new Map<string, { inbound?: PolicyNames; outbound?: PolicyNames }>();
  private readonly componentBreakers = new Map<string, CircuitBreaker>();
  private readonly endpointBreakers = new Map<string, Map<string, CircuitBreaker>>();
  /** `Default…Policy` names by fallback levels; the policies are fixed once the documents are read. */
  private readonly defaultNames = new Map<string, PolicyNames>();
  private appPoliciesDefined: boolean | undefined;
  /** Names of the documents that applied to this app. */
  readonly loaded: { name: string; namespace: string }[] = [];

  constructor(private readonly options: ResiliencyOptions) {
    for (const [name, policy] of Object.entries(BUILT_IN_RETRIES)) this.retries.set(name, { name, ...policy });
  }

  /** Builds the policies from the resources loader's `others.get('Resiliency')`, keeping documents scoped to `appId`. */
  static fromDocuments(documents: readonly LoadedDocument[], appId: string, options: ResiliencyOptions): Resiliency {
    const r = new Resiliency(options);
    const parsed = documents.map(({ file, doc }) => ({ file, res: parseResiliency(file, doc) }));
    for (const { file, res } of parsed) {
      const scopes = res.scopes ?? [];
      if (scopes.length > 0 && !scopes.includes(appId)) continue;
      r.add(file, res);
    }
    for (const { file, res } of parsed) r.checkReferences(file, res);
    return r;
  }

  /** True when nothing but built-ins is defined. */
  get empty(): boolean {
    return this.loaded.length === 0;
  }

  /**
   * False when no policy can apply to any app target (no app targets, no `DefaultApp…`/`Default…`
   * timeout, retry or breaker): service invocation then skips building the per-call policy key.
   */
  get hasAppPolicies(): boolean {
    this.appPoliciesDefined ??= this.apps.size > 0 || Object.keys(this.appDefaults()).length > 0;
    return this.appPoliciesDefined;
  }

  /** The policy for a target; {@link noopPolicy} when none applies. */
  policyFor(target: PolicyTarget): PolicyRunner {
    if (target.kind === 'app') return this.appPolicy(target.name, target.endpoint ?? '');
    const type = resiliencyComponentType(target.componentKind);
    if (!type) return noopPolicy;
    return this.componentPolicy(target.name, type, target.direction);
  }

  /** A built-in retry policy by name (`DaprBuiltInServiceRetries` …). */
  builtInPolicy(name: keyof typeof BUILT_IN_RETRIES): PolicyRunner {
    const retry = this.retries.get(name);
    return retry ? new Policy({ retry, direction: 'outbound', target: name, ...this.common() }) : noopPolicy;
  }

  private common() {
    return { ...(this.options.observer ? { observer: this.options.observer } : {}), ...(this.options.sleep ? { sleep: this.options.sleep } : {}) };
  }

  private add(file: string, res: ResiliencyResource): void {
    const p = res.spec.policies ?? {};
    for (const [name, value] of Object.entries(p.timeouts ?? {})) this.timeouts.set(name, ms(file, `spec.policies.timeouts.${name}`, value));
    for (const [name, spec] of Object.entries(p.retries ?? {})) {
      if (name === 'DaprBuiltInActorNotFoundRetries') {
        this.options.logger.warn(`${file}: ${name} is protected and cannot be overridden; keeping the built-in policy`);
        continue;
      }
      const retry = retryFrom(file, name, spec);
      if (name in BUILT_IN_RETRIES && retry.maxRetries >= 0 && retry.maxRetries < 3) {
        this.options.logger.warn(`${file}: ${name} may only be strengthened; raising maxRetries to 3`);
        retry.maxRetries = 3;
      }
      this.retries.set(name, retry);
    }
    for (const [name, cb] of Object.entries(p.circuitBreakers ?? {})) {
      const f = `spec.policies.circuitBreakers.${name}`;
      const trip = cb.trip ?? 'consecutiveFailures > 5';
      try {
        compileTrip(trip);
      } catch (err) {
        throw new ResourceError(file, `${f}.trip`, `invalid CEL expression "${trip}": ${(err as Error).message}`);
      }
      this.breakers.set(name, {
        name,
        maxRequests: cb.maxRequests !== undefined && cb.maxRequests > 0 ? cb.maxRequests : 1,
        intervalMs: cb.interval === undefined ? 0 : ms(file, `${f}.interval`, cb.interval),
        timeoutMs: cb.timeout === undefined ? 60_000 : ms(file, `${f}.timeout`, cb.timeout),
        trip,
      });
    }
    const t = res.spec.targets ?? {};
    for (const [name, names] of Object.entries(t.apps ?? {})) this.apps.set(name, { ...names, cacheSize: names.circuitBreakerCacheSize ?? 100 });
    for (const [name, c] of Object.entries(t.components ?? {})) this.components.set(name, c);
    if (t.actors && Object.keys(t.actors).length > 0) this.options.logger.warn(`${file}: actor targets are accepted but actors are not supported yet`);
    this.loaded.push({ name: res.metadata.name, namespace: res.metadata.namespace ?? '' });
    this.options.logger.info(`loading Resiliency configuration: ${res.metadata.name}`);
  }

  private checkReferences(file: string, res: ResiliencyResource): void {
    const check = (field: string, names: PolicyNames | undefined) => {
      if (!names) return;
      if (names.timeout && !this.timeouts.has(names.timeout)) throw new ResourceError(file, `${field}.timeout`, `no timeout policy named "${names.timeout}"`);
      if (names.retry && !this.retries.has(names.retry)) throw new ResourceError(file, `${field}.retry`, `no retry policy named "${names.retry}"`);
      if (names.circuitBreaker && !this.breakers.has(names.circuitBreaker)) {
        throw new ResourceError(file, `${field}.circuitBreaker`, `no circuit breaker policy named "${names.circuitBreaker}"`);
      }
    };
    const t = res.spec.targets ?? {};
    for (const [name, names] of Object.entries(t.apps ?? {})) check(`spec.targets.apps.${name}`, names);
    for (const [name, c] of Object.entries(t.components ?? {})) {
      check(`spec.targets.components.${name}.inbound`, c.inbound);
      check(`spec.targets.components.${name}.outbound`, c.outbound);
    }
  }

  /** Dapr's per-kind fallback for `Default…Policy` names. */
  private defaults(levels: readonly string[]): PolicyNames {
    const key = levels.join('|');
    let names = this.defaultNames.get(key);
    if (!names) {
      names = this.pickDefaults(levels);
      this.defaultNames.set(key, names);
    }
    return names;
  }

  private appDefaults(): PolicyNames {
    return this.defaults(APP_LEVELS);
  }

  private pickDefaults(levels: readonly string[]): PolicyNames {
    const pick = (kind: string, has: (n: string) => boolean) => [...levels.map((l) => `Default${l}${kind}Policy`), `Default${kind}Policy`].find(has);
    const timeout = pick('Timeout', (n) => this.timeouts.has(n));
    const retry = pick('Retry', (n) => this.retries.has(n));
    const circuitBreaker = pick('CircuitBreaker', (n) => this.breakers.has(n));
    return { ...(timeout ? { timeout } : {}), ...(retry ? { retry } : {}), ...(circuitBreaker ? { circuitBreaker } : {}) };
  }

  private componentPolicy(name: string, type: ResiliencyComponentType, direction: FlowDirection): PolicyRunner {
    const dir = direction === 'outbound' ? 'Outbound' : 'Inbound';
    const named = this.components.get(name);
    const names = named ? (named[direction] ?? {}) : this.defaults([`${type}Component${dir}`, `Component${dir}`, 'Component']);
    const target = `${type}_${name}`;
    let breaker: CircuitBreaker | undefined;
    if (names.circuitBreaker) {
      // Dapr keeps one breaker per component name, whichever direction asks.
      breaker = this.componentBreakers.get(name);
      if (!breaker) {
        breaker = this.newBreaker(names.circuitBreaker, `${names.circuitBreaker}-${name}`, direction, target);
        this.componentBreakers.set(name, breaker);
      }
    }
    return this.build(names, breaker, direction, target);
  }

  private appPolicy(appId: string, endpoint: string): PolicyRunner {
    const named = this.apps.get(appId);
    const names = named ?? this.appDefaults();
    const target = `app_${appId}`;
    let breaker: CircuitBreaker | undefined;
    if (names.circuitBreaker) {
      let cache = this.endpointBreakers.get(appId);
      if (!cache) this.endpointBreakers.set(appId, (cache = new Map()));
      breaker = cache.get(endpoint);
      if (!breaker) {
        breaker = this.newBreaker(names.circuitBreaker, endpoint, 'outbound', target);
        cache.set(endpoint, breaker);
        const limit = named?.cacheSize ?? 100;
        if (cache.size > limit) cache.delete(cache.keys().next().value as string);
      }
    }
    return this.build(names, breaker, 'outbound', target);
  }

  private newBreaker(policyName: string, instance: string, direction: FlowDirection, target: string): CircuitBreaker {
    const settings = this.breakers.get(policyName) as CircuitBreakerSettings;
    const observer = this.options.observer;
    return new CircuitBreaker(
      { ...settings, name: instance },
      (_from, to) => {
        this.options.logger.info(`circuit breaker "${instance}" changed state to ${to}`);
        observer?.activated('circuitbreaker', direction, target, to);
      },
      this.options.now,
    );
  }

  private build(names: PolicyNames, breaker: CircuitBreaker | undefined, direction: FlowDirection, target: string): PolicyRunner {
    const timeoutMs = names.timeout ? this.timeouts.get(names.timeout) : undefined;
    const retry = names.retry ? this.retries.get(names.retry) : undefined;
    if (timeoutMs === undefined && !retry && !breaker) return noopPolicy;
    return new Policy({
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retry ? { retry } : {}),
      ...(breaker ? { breaker } : {}),
      direction,
      target,
      ...this.common(),
    });
  }
}
