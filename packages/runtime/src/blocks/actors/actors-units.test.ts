import { describe, expect, it } from 'vitest';
import { invalidName, normalizeMethod } from './actor-errors.js';
import { parseAppActorConfig } from './app-config.js';
import { callbackBody } from './actor-runtime.js';
import { computeSchedule, followingDue } from './reminders.js';
import { decodeActorTransaction } from './http-routes.js';

describe('actor names and methods (dapr messaging/method)', () => {
  it('refuses names that would leave their URL segment', () => {
    expect(invalidName('ok-name.1')).toBeUndefined();
    expect(invalidName('a/b')).toMatch(/forbidden character/);
    expect(invalidName('..')).toMatch(/path traversal/);
    expect(invalidName('a\u0001')).toMatch(/control character/);
  });

  it('cleans method paths as Go path.Clean does, dropping leading ..', () => {
    expect(normalizeMethod('a/./b//c')).toBe('a/b/c');
    expect(normalizeMethod('../../x')).toBe('x');
    expect(normalizeMethod('..')).toBe('');
    expect(() => normalizeMethod('a?b')).toThrow(/forbidden character/);
  });
});

describe('the app actor config', () => {
  it('reads the types and per-type overrides from entitiesConfig', () => {
    const config = parseAppActorConfig({
      entities: ['A', 'B'],
      actorIdleTimeout: '10m',
      reentrancy: { enabled: true },
      entitiesConfig: [{ entities: ['B'], actorIdleTimeout: '5s', reentrancy: { enabled: false, maxStackDepth: 4 } }],
    });
    expect(config.entities).toEqual(['A', 'B']);
    expect(config.types.get('A')).toMatchObject({ idleTimeoutMs: 600_000, reentrancy: { enabled: true, maxStackDepth: 32 } });
    expect(config.types.get('B')).toMatchObject({ idleTimeoutMs: 5000, reentrancy: { enabled: false, maxStackDepth: 4 } });
  });

  it("takes daprd's drain defaults (no drain, 60s) and does not pass top-level settings into an entitiesConfig entry", () => {
    const config = parseAppActorConfig({
      entities: ['A', 'B', 'C'],
      actorIdleTimeout: '10m',
      drainOngoingCallTimeout: '5s',
      drainRebalancedActors: true,
      entitiesConfig: [{ entities: ['B'], actorIdleTimeout: '1m' }],
    });
    expect(config.types.get('A')).toMatchObject({ idleTimeoutMs: 600_000, drainOngoingCallTimeoutMs: 5000, drainRebalancedActors: true });
    expect(config.types.get('B')).toMatchObject({ idleTimeoutMs: 60_000, drainOngoingCallTimeoutMs: 60_000, drainRebalancedActors: false });
    expect(parseAppActorConfig({ entities: ['A'] }).types.get('A')).toMatchObject({ drainOngoingCallTimeoutMs: 60_000, drainRebalancedActors: false });
  });

  it('keeps the default for a bad duration and says so', () => {
    const config = parseAppActorConfig({ entities: ['A'], actorIdleTimeout: 'soon' });
    expect(config.types.get('A')?.idleTimeoutMs).toBe(3_600_000);
    expect(config.warnings[0]).toMatch(/actorIdleTimeout "soon"/);
  });

  it('hosts nothing when the body is not an object', () => {
    expect(parseAppActorConfig(undefined).entities).toEqual([]);
  });
});

describe('timer and reminder schedules', () => {
  it('refuses a TTL that ends before the first due time, with daprd message', () => {
    expect(() => computeSchedule('reminder', 'T||1||r', '10s', '', '5s', 0)).not.toThrow();
    expect(() => computeSchedule('reminder', 'T||1||r', '10s', '', '2030-01-01T00:00:00Z', Date.parse('2031-01-01T00:00:00Z'))).toThrow(/has already expired/);
    expect(() => computeSchedule('timer', 'T||1||t', '', 'R0/PT1S', '', 0)).toThrow('invalid timer period: has zero repetitions');
    expect(() => computeSchedule('reminder', 'T||1||r', 'later', '', '', 0)).toThrow(/^error parsing reminder due time/);
  });

  it('repeats by period until the repetitions or the TTL run out', () => {
    const five = computeSchedule('reminder', 'k', '0s', 'R2/PT1S', '', 0);
    expect(followingDue(five, 0, 1, 0)).toBe(1000);
    expect(followingDue(five, 1000, 2, 1000)).toBeUndefined();
    const ttl = computeSchedule('reminder', 'k', '0s', '1s', '2500ms', 0);
    expect(followingDue(ttl, 2000, 3, 2000)).toBeUndefined();
    expect(followingDue(computeSchedule('reminder', 'k', '', '', '', 0), 0, 1, 0)).toBeUndefined();
  });

  it('puts data first in callback bodies, as daprd marshals them', () => {
    expect(callbackBody('{"a":1}', { dueTime: '1s', period: '' }).toString()).toBe('{"data":{"a":1},"dueTime":"1s","period":""}');
    expect(callbackBody(undefined, { callback: 'cb', dueTime: '', period: '' }).toString()).toBe('{"callback":"cb","dueTime":"","period":""}');
  });
});

describe('the HTTP state transaction body', () => {
  it('stores upsert values as their JSON text and keeps metadata', () => {
    const ops = decodeActorTransaction(Buffer.from('[{"operation":"upsert","request":{"key":"k","value":{"n":1},"metadata":{"ttlInSeconds":"5"}}},{"operation":"delete","request":{"key":"d"}}]'));
    expect(ops).toEqual([
      { operation: 'upsert', key: 'k', value: Buffer.from('{"n":1}'), metadata: { ttlInSeconds: '5' } },
      { operation: 'delete', key: 'd' },
    ]);
  });

  it('answers daprd codes for bad bodies and operations', () => {
    expect(() => decodeActorTransaction(Buffer.from('{'))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_REQUEST' }) as Error);
    expect(() => decodeActorTransaction(Buffer.from('[{"operation":"merge","request":{"key":"k"}}]'))).toThrow(
      expect.objectContaining({ code: 'ERR_ACTOR_STATE_TRANSACTION_SAVE', message: 'error saving actor transaction state: operation type merge not supported' }) as Error,
    );
  });
});
