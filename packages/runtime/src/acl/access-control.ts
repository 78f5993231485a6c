/**
 * Callee-side access control for service invocation (`spec.accessControl` of the Configuration), with
 * Dapr's precedence: a policy for the caller's app id, then an operation of that policy matching the
 * path (and verb), else the policy's default action, else the global default action.
 *
 * Without mTLS the caller is the app id its sidecar declares (`dapr-caller-app-id`) and `trustDomain`
 * is not checked. With mTLS the caller's app id, namespace and trust domain come from the SPIFFE ID of
 * its certificate, and a policy applies only when its `trustDomain` (default `public`) matches, as in
 * daprd; a caller without an identity gets the global default action.
 */
import { ResourceError } from '../resources/loader.js';
import { DEFAULT_TRUST_DOMAIN } from '../security/spiffe.js';

/** `allow` or `deny`. */
export type AclAction = 'allow' | 'deny';

/** One operation rule. */
export interface AclOperation {
  /** Path segments of `name`; `*` matches one segment, a trailing `**` matches the rest. */
  segments: string[];
  name: string;
  /** Upper-case verbs; `*` matches every verb. */
  verbs: string[];
  action: AclAction;
}

/** One app's policy. */
export interface AclPolicy {
  appId: string;
  namespace: string;
  /** Matched against the caller's SPIFFE trust domain under mTLS. @default 'public' */
  trustDomain: string;
  defaultAction: AclAction;
  operations: AclOperation[];
}

/** The parsed `accessControl` section. */
export interface AccessControlSpec {
  defaultAction: AclAction;
  policies: AclPolicy[];
}

/** A caller and what it asks for. */
export interface AclRequest {
  callerAppId: string;
  callerNamespace: string;
  /** The caller's SPIFFE trust domain; only known (and then checked) under mTLS. */
  callerTrustDomain?: string;
  /** The invoked method path, e.g. `/orders/1` or `orders/1`. */
  operation: string;
  verb: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function action(file: string, field: string, value: unknown, fallback: AclAction): AclAction {
  if (value === undefined || value === null || value === '') return fallback;
  const v = String(value).toLowerCase();
  if (v !== 'allow' && v !== 'deny') throw new ResourceError(file, field, `must be "allow" or "deny", got "${String(value)}"`);
  return v;
}

const splitPath = (p: string) => p.split('/').filter((s) => s !== '');

/** Parses `spec.accessControl`; undefined when the section is absent (everything allowed). */
export function parseAccessControl(file: string, raw: unknown): AccessControlSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw new ResourceError(file, 'spec.accessControl', 'must be a mapping');
  // Dapr allows by default when no default action is given.
  const defaultAction = action(file, 'spec.accessControl.defaultAction', raw['defaultAction'], 'allow');
  const rawPolicies = raw['policies'] ?? [];
  if (!Array.isArray(rawPolicies)) throw new ResourceError(file, 'spec.accessControl.policies', 'must be a list');
  const policies = rawPolicies.map((p: unknown, i): AclPolicy => {
    const field = `spec.accessControl.policies[${i}]`;
    if (!isRecord(p) || typeof p['appId'] !== 'string' || p['appId'] === '') {
      throw new ResourceError(file, `${field}.appId`, 'is required');
    }
    const policyDefault = action(file, `${field}.defaultAction`, p['defaultAction'], defaultAction);
    const rawOps = p['operations'] ?? [];
    if (!Array.isArray(rawOps)) throw new ResourceError(file, `${field}.operations`, 'must be a list');
    const operations = rawOps.map((o: unknown, j): AclOperation => {
      const opField = `${field}.operations[${j}]`;
      if (!isRecord(o) || typeof o['name'] !== 'string' || o['name'] === '') throw new ResourceError(file, `${opField}.name`, 'is required');
      const verbs = o['httpVerb'] ?? ['*'];
      if (!Array.isArray(verbs)) throw new ResourceError(file, `${opField}.httpVerb`, 'must be a list');
      return {
        name: o['name'],
        segments: splitPath(o['name']),
        verbs: verbs.map((v) => String(v).toUpperCase()),
        action: action(file, `${opField}.action`, o['action'], policyDefault),
      };
    });
    return {
      appId: p['appId'],
      namespace: typeof p['namespace'] === 'string' ? p['namespace'] : '',
      trustDomain: typeof p['trustDomain'] === 'string' && p['trustDomain'] !== '' ? p['trustDomain'] : DEFAULT_TRUST_DOMAIN,
      defaultAction: policyDefault,
      operations,
    };
  });
  return { defaultAction, policies };
}

function segmentsMatch(rule: string[], path: string[]): boolean {
  for (let i = 0; i < rule.length; i++) {
    const r = rule[i] as string;
    if (r === '**') return true;
    const p = path[i];
    if (p === undefined) return false;
    if (r !== '*' && r !== p) return false;
  }
  return rule.length === path.length;
}

const sameNamespace = (a: string, b: string) => (a || 'default') === (b || 'default');

/** Decides one call. */
export function isAllowed(spec: AccessControlSpec | undefined, request: AclRequest): boolean {
  if (!spec) return true;
  const policy = spec.policies.find(
    (p) =>
      p.appId === request.callerAppId &&
      (p.namespace === '' || sameNamespace(p.namespace, request.callerNamespace)) &&
      (request.callerTrustDomain === undefined || p.trustDomain === request.callerTrustDomain),
  );
  if (!policy) return spec.defaultAction === 'allow';
  const path = splitPath(request.operation);
  const verb = request.verb.toUpperCase();
  // The most specific rule wins: the one with the most literal segments.
  const matching = policy.operations
    .filter((op) => segmentsMatch(op.segments, path))
    .sort((a, b) => b.segments.filter((s) => s !== '*' && s !== '**').length - a.segments.filter((s) => s !== '*' && s !== '**').length);
  const op = matching[0];
  if (!op) return policy.defaultAction === 'allow';
  if (op.verbs.includes('*') || op.verbs.includes(verb)) return op.action === 'allow';
  return policy.defaultAction === 'allow';
}
