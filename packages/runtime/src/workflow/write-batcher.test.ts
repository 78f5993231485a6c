import { describe, expect, it } from 'vitest';
import { WriteBatcher } from './write-batcher.js';

describe('WriteBatcher', () => {
  it('flushes the writes of one turn together and answers each after the flush', async () => {
    const flushed: number[][] = [];
    const batcher = new WriteBatcher<number, number>(async (items) => {
      flushed.push(items);
      return items.map((i) => i * 10);
    });
    expect(await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)])).toEqual([10, 20, 30]);
    expect(await batcher.add(4)).toBe(40);
    expect(flushed).toEqual([[1, 2, 3], [4]]);
  });

  it('tries each write of a failed batch on its own, so only the bad one fails', async () => {
    const flushed: number[][] = [];
    const batcher = new WriteBatcher<number, number>(async (items) => {
      flushed.push(items);
      if (items.includes(2)) throw new Error('bad write');
      return items;
    });
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2), batcher.add(3)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'bad write', 3]);
    expect(flushed).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('holds new writes while its batches are committing, and sends them together after', async () => {
    const flushed: number[][] = [];
    const commits: (() => void)[] = [];
    const batcher = new WriteBatcher<number, number>((items) => {
      flushed.push(items);
      return new Promise((resolve) => commits.push(() => resolve(items)));
    }, 1);
    const first = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [batcher.add(2), batcher.add(3)];
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toEqual([[1]]);
    commits.shift()!();
    expect(await first).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toEqual([[1], [2, 3]]);
    commits.shift()!();
    expect(await Promise.all(later)).toEqual([2, 3]);
  });
});
