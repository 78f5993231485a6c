/** The ordering rule of an execution plan and the built-in transforms (pure functions, no processes). */
import { describe, expect, it } from 'vitest';
import type { Task, Workflow } from '../src/definitions/model.js';
import { PreconditionError } from '../src/errors.js';
import { planExecution } from '../src/executions/plan.js';
import { TaskError, runTransform } from '../src/executions/tasks.js';

let clock = 0;
const task = (name: string, sequence: number, execution_type: 'sync' | 'async', config: Record<string, unknown> = { operation: 'uppercase', input: 'x' }): Task => ({
  id: `id-${name}`,
  workflow_id: 'wf',
  name,
  sequence,
  execution_type,
  kind: 'transform',
  config,
  created_at: new Date(1_800_000_000_000 + clock++ * 1000).toISOString(),
  updated_at: '',
});
const workflow = (tasks: Task[]): Workflow => ({ id: 'wf', name: 'wf', description: null, created_at: '', updated_at: '', tasks });
const names = (w: Workflow) => planExecution(w).map((step) => step.map((t) => t.name));

describe('planExecution', () => {
  it('orders by sequence, runs neighbouring async tasks together and each sync task alone', () => {
    const w = workflow([task('d', 1, 'sync'), task('z', 2, 'async'), task('a', 1, 'sync'), task('b', 1, 'async'), task('c', 1, 'async'), task('y', 2, 'async'), task('e', 1, 'async')]);
    // Definition order within sequence 1 (creation time): d, a, b, c, e.
    expect(names(w)).toEqual([['d'], ['a'], ['b', 'c', 'e'], ['z', 'y']]);
  });

  it('never lets async tasks of different sequences overlap', () => {
    expect(names(workflow([task('a', 1, 'async'), task('b', 2, 'async')]))).toEqual([['a'], ['b']]);
  });

  it('accepts input_from naming a task of an earlier step and rejects others', () => {
    expect(names(workflow([task('a', 1, 'sync'), task('b', 2, 'sync', { operation: 'uppercase', input_from: 'a' })]))).toEqual([['a'], ['b']]);
    const sameStep = workflow([task('a', 1, 'async'), task('b', 1, 'async', { operation: 'uppercase', input_from: 'a' })]);
    expect(() => planExecution(sameStep)).toThrow(PreconditionError);
    expect(() => planExecution(workflow([]))).toThrow(/has no tasks/);
    expect(() => planExecution(workflow([task('a', 1, 'sync', { operation: 'explode' })]))).toThrow(/invalid configuration/);
  });
});

describe('runTransform', () => {
  it('applies each operation', () => {
    expect(runTransform({ operation: 'uppercase' }, 'abc')).toBe('ABC');
    expect(runTransform({ operation: 'lowercase' }, 'ABC')).toBe('abc');
    expect(runTransform({ operation: 'reverse' }, 'abc')).toBe('cba');
    expect(runTransform({ operation: 'reverse' }, [1, 2])).toEqual([2, 1]);
    expect(runTransform({ operation: 'length' }, [1, 2, 3])).toBe(3);
    expect(runTransform({ operation: 'sum' }, [1, 2, 3.5])).toBe(6.5);
    expect(runTransform({ operation: 'pick', path: 'a.b' }, { a: { b: 7 } })).toBe(7);
    expect(runTransform({ operation: 'template', template: 'Hi {{name}} ({{n}})' }, { name: 'Ann', n: 2 })).toBe('Hi Ann (2)');
  });

  it('fails with a message that says what was expected', () => {
    expect(() => runTransform({ operation: 'sum' }, [1, 'x'])).toThrow(new TaskError('"sum" needs an array of numbers, got [1,"x"]'));
    expect(() => runTransform({ operation: 'uppercase' }, 3)).toThrow(/needs a string, got 3/);
    expect(() => runTransform({ operation: 'pick', path: 'a.c' }, { a: {} })).toThrow(/found no "a.c"/);
    expect(() => runTransform({ operation: 'template', template: '{{missing}}' }, {})).toThrow(/no field/);
  });
});
