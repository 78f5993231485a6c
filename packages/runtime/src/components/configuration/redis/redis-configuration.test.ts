import { describe, expect, it } from 'vitest';
import { parseRedisConfigurationValue, withKeyspaceFlags } from './redis-configuration.js';

describe('configuration.redis values and keyspace flags', () => {
  it('splits value||version as Dapr does', () => {
    expect(parseRedisConfigurationValue('v||3')).toEqual({ value: 'v', version: '3' });
    expect(parseRedisConfigurationValue('plain')).toEqual({ value: 'plain', version: '' });
    expect(parseRedisConfigurationValue('a||b||c')).toEqual({ value: 'a', version: 'b' });
  });

  it('adds the flags keyspace change notifications need, keeping those already set', () => {
    expect(withKeyspaceFlags('')).toBe('Kg$xe');
    expect(withKeyspaceFlags('Ex')).toBe('ExKg$e');
    expect(withKeyspaceFlags('KA')).toBe('KA');
    expect(withKeyspaceFlags('Kg$xe')).toBe('Kg$xe');
  });
});
