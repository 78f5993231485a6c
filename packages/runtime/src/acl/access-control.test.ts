import { describe, expect, it } from 'vitest';
import { ResourceError } from '../resources/loader.js';
import { isAllowed, parseAccessControl } from './access-control.js';

const spec = parseAccessControl('config.yaml', {
  defaultAction: 'deny',
  trustDomain: 'public',
  policies: [
    {
      appId: 'frontend',
      defaultAction: 'allow',
      namespace: 'default',
      operations: [
        { name: '/admin/**', httpVerb: ['*'], action: 'deny' },
        { name: '/orders/*', httpVerb: ['POST'], action: 'deny' },
      ],
    },
    { appId: 'auditor', defaultAction: 'deny', operations: [{ name: '/reports', httpVerb: ['GET'], action: 'allow' }] },
  ],
});
const call = (callerAppId: string, operation: string, verb = 'GET') => isAllowed(spec, { callerAppId, callerNamespace: '', operation, verb });

describe('access control', () => {
  it('applies the global default action to an app without a policy', () => {
    expect(call('stranger', '/anything')).toBe(false);
    expect(isAllowed(parseAccessControl('c', { policies: [] }), { callerAppId: 'x', callerNamespace: '', operation: 'a', verb: 'GET' })).toBe(true);
  });

  it('applies the policy default action when no operation matches', () => {
    expect(call('frontend', '/status')).toBe(true);
    expect(call('auditor', '/status')).toBe(false);
  });

  it('applies the operation action when path and verb match', () => {
    expect(call('frontend', '/orders/42', 'POST')).toBe(false);
    expect(call('frontend', 'orders/42', 'post')).toBe(false);
    expect(call('auditor', '/reports', 'GET')).toBe(true);
  });

  it('falls back to the policy default when the path matches but the verb does not', () => {
    expect(call('frontend', '/orders/42', 'GET')).toBe(true);
    expect(call('auditor', '/reports', 'DELETE')).toBe(false);
  });

  it('matches one segment with * and the rest with **', () => {
    expect(call('frontend', '/orders/42/items', 'POST')).toBe(true);
    expect(call('frontend', '/admin/users/7', 'PUT')).toBe(false);
  });

  it("under mTLS applies a policy only when the certificate's trust domain matches it (default public)", () => {
    const withTd = (callerTrustDomain: string) => isAllowed(spec, { callerAppId: 'auditor', callerNamespace: 'default', callerTrustDomain, operation: '/reports', verb: 'GET' });
    expect(withTd('public')).toBe(true);
    // Another trust domain does not match the auditor policy: the global default (deny) applies.
    expect(withTd('elsewhere')).toBe(false);
    const custom = parseAccessControl('c', { defaultAction: 'deny', policies: [{ appId: 'x', trustDomain: 'corp', defaultAction: 'allow' }] });
    expect(isAllowed(custom, { callerAppId: 'x', callerNamespace: '', callerTrustDomain: 'corp', operation: '/', verb: 'GET' })).toBe(true);
    expect(isAllowed(custom, { callerAppId: 'x', callerNamespace: '', callerTrustDomain: 'public', operation: '/', verb: 'GET' })).toBe(false);
  });

  it('gives a caller without an identity (no SPIFFE ID) the global default action', () => {
    expect(isAllowed(spec, { callerAppId: '', callerNamespace: '', callerTrustDomain: '', operation: '/status', verb: 'GET' })).toBe(false);
  });

  it('allows everything when the section is absent', () => {
    expect(isAllowed(parseAccessControl('c', undefined), { callerAppId: 'x', callerNamespace: '', operation: '/', verb: 'GET' })).toBe(true);
  });

  it('rejects a bad action or a policy without an app id, naming the field', () => {
    expect(() => parseAccessControl('c.yaml', { defaultAction: 'maybe' })).toThrow(ResourceError);
    expect(() => parseAccessControl('c.yaml', { policies: [{ defaultAction: 'allow' }] })).toThrow(/policies\[0\]\.appId/);
  });
});
