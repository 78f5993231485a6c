import { describe, expect, it } from 'vitest';
import { compileRule, selectRoute } from './routing.js';

describe('CEL route rules', () => {
  const rules = [
    compileRule('event.type == "widget"', '/widgets', 'test'),
    compileRule('has(event.data.size) && event.data.size > 10', '/big', 'test'),
    compileRule('', '/default', 'test'),
  ];

  it('picks the first matching rule, in order, and falls back to the default', () => {
    expect(selectRoute(rules, { type: 'widget', data: { size: 20 } })).toBe('/widgets');
    expect(selectRoute(rules, { type: 'gadget', data: { size: 20 } })).toBe('/big');
    expect(selectRoute(rules, { type: 'gadget', data: {} })).toBe('/default');
  });

  it('treats a rule that fails to evaluate as not matching', () => {
    const strict = [compileRule('event.data.size > 10', '/big', 'test')];
    expect(selectRoute(strict, { type: 'x', data: 'not an object' })).toBeUndefined();
  });

  it('rejects an expression that does not parse, naming where it came from', () => {
    expect(() => compileRule('event.type ==', '/x', 'sub "orders"')).toThrow(/sub "orders": invalid CEL expression/);
  });
});
