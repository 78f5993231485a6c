/**
 * Subscriptions from both sources, normalised to one shape: the app's `GET /dapr/subscribe` answer
 * (v1 `route`, v2 `routes`) and declarative `Subscription` resources (`dapr.io/v1alpha1` with
 * `spec.route`, `dapr.io/v2alpha1` with `spec.routes`, `scopes`). CEL rules are compiled here so a bad
 * expression is reported once, at discovery, naming the subscription.
 */
import type { LoadedDocument } from '../../resources/loader.js';
import { compileRule } from './routing.js';
import type { CompiledRule } from './routing.js';

/** Bulk subscribe settings. */
export interface BulkSubscribeSettings {
  enabled: boolean;
  /** @default 100 */
  maxMessagesCount: number;
  /** @default 1000 */
  maxAwaitDurationMs: number;
}

/** One subscription, whatever its source. */
export interface SubscriptionSpec {
  pubsubName: string;
  topic: string;
  /** Rules in order; the default route is the last rule, with no `match`. */
  rules: CompiledRule[];
  metadata: Record<string, string>;
  deadLetterTopic?: string;
  bulkSubscribe?: BulkSubscribeSettings;
  type: 'PROGRAMMATIC' | 'DECLARATIVE';
}

/** A subscription that could not be used, and why. */
export interface SubscriptionProblem {
  where: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, value] of Object.entries(v)) {
    if (typeof value === 'string') out[k] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[k] = String(value);
  }
  return out;
}

function bulkSettings(v: unknown): BulkSubscribeSettings | undefined {
  if (!isObj(v)) return undefined;
  const count = Number(v['maxMessagesCount'] ?? 100);
  const wait = Number(v['maxAwaitDurationMs'] ?? 1000);
  return {
    enabled: v['enabled'] === true || v['enabled'] === 'true',
    maxMessagesCount: Number.isInteger(count) && count > 0 ? count : 100,
    maxAwaitDurationMs: Number.isFinite(wait) && wait >= 0 ? wait : 1000,
  };
}

/** Builds one subscription from the shared field layout of both sources. */
function fromFields(fields: Json, route: unknown, routes: unknown, type: SubscriptionSpec['type'], where: string): SubscriptionSpec {
  const pubsubName = str(fields['pubsubname']) ?? '';
  const topic = str(fields['topic']) ?? '';
  if (pubsubName === '') throw new Error(`${where}: "pubsubname" is required`);
  if (topic === '') throw new Error(`${where}: "topic" is required`);
  const rules: CompiledRule[] = [];
  let fallback: string | undefined;
  if (isObj(routes)) {
    const raw = routes['rules'];
    if (raw !== undefined && !Array.isArray(raw)) throw new Error(`${where}: "routes.rules" must be an array`);
    for (const [i, rule] of (raw ?? []).entries()) {
      if (!isObj(rule)) throw new Error(`${where}: routes.rules[${i}] must be an object`);
      const path = str(rule['path']) ?? '';
      const match = str(rule['match']) ?? '';
      if (path === '') throw new Error(`${where}: routes.rules[${i}].path is required`);
      rules.push(compileRule(match, path, `${where}: routes.rules[${i}].match`));
    }
    fallback = str(routes['default']);
  }
  // v2 routes win over the v1 route; an empty rule list with no default falls back to `route`.
  if (!fallback && rules.length === 0) fallback = str(route);
  if (fallback) rules.push(compileRule('', fallback, where));
  if (rules.length === 0) throw new Error(`${where}: no route: set "route" or "routes"`);
  const dead = str(fields['deadLetterTopic']);
  const bulk = bulkSettings(fields['bulkSubscribe']);
  return {
    pubsubName,
    topic,
    rules,
    metadata: stringMap(fields['metadata']),
    ...(dead ? { deadLetterTopic: dead } : {}),
    ...(bulk?.enabled ? { bulkSubscribe: bulk } : {}),
    type,
  };
}

/** Parses the app's `/dapr/subscribe` JSON; bad entries are reported and skipped. */
export function parseProgrammatic(body: unknown): { subscriptions: SubscriptionSpec[]; problems: SubscriptionProblem[] } {
  const subscriptions: SubscriptionSpec[] = [];
  const problems: SubscriptionProblem[] = [];
  if (!Array.isArray(body)) {
    problems.push({ where: 'GET /dapr/subscribe', message: 'expected a JSON array of subscriptions' });
    return { subscriptions, problems };
  }
  for (const [i, item] of body.entries()) {
    const where = `GET /dapr/subscribe [${i}]`;
    try {
      if (!isObj(item)) throw new Error(`${where}: expected an object`);
      subscriptions.push(fromFields(item, item['route'], item['routes'], 'PROGRAMMATIC', where));
    } catch (err) {
      problems.push({ where, message: (err as Error).message });
    }
  }
  return { subscriptions, problems };
}

/** Parses declarative `Subscription` documents that apply to `appId` (scopes); bad ones are reported. */
export function parseDeclarative(
  docs: readonly LoadedDocument[],
  appId: string,
): { subscriptions: SubscriptionSpec[]; problems: SubscriptionProblem[] } {
  const subscriptions: SubscriptionSpec[] = [];
  const problems: SubscriptionProblem[] = [];
  for (const { file, doc } of docs) {
    const name = isObj(doc['metadata']) ? str(doc['metadata']['name']) : undefined;
    const where = `${file}: Subscription "${name ?? '?'}"`;
    try {
      const apiVersion = str(doc['apiVersion']);
      if (apiVersion !== 'dapr.io/v1alpha1' && apiVersion !== 'dapr.io/v2alpha1') {
        throw new Error(`${where}: apiVersion must be dapr.io/v1alpha1 or dapr.io/v2alpha1, got "${apiVersion ?? ''}"`);
      }
      const scopes = doc['scopes'];
      if (Array.isArray(scopes) && scopes.length > 0 && !scopes.includes(appId)) continue;
      const spec = doc['spec'];
      if (!isObj(spec)) throw new Error(`${where}: "spec" is required`);
      const v1 = apiVersion === 'dapr.io/v1alpha1';
      subscriptions.push(fromFields(spec, spec['route'], v1 ? undefined : spec['routes'], 'DECLARATIVE', where));
    } catch (err) {
      problems.push({ where, message: (err as Error).message });
    }
  }
  return { subscriptions, problems };
}
