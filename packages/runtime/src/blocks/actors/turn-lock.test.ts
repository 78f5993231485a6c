import { describe, expect, it } from 'vitest';
import { ActorClosedError, TurnLock } from './turn-lock.js';

describe('TurnLock', () => {
  it('runs calls one at a time in arrival order', async () => {
    const lock = new TurnLock({ enabled: false, maxStackDepth: 32 });
    const order: string[] = [];
    const first = await lock.acquire(undefined);
    const second = lock.acquire(undefined).then((h) => {
      order.push('second');
      return h;
    });
    const third = lock.acquire(undefined).then((h) => {
      order.push('third');
      return h;
    });
    order.push('first');
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(['first', 'second', 'third']);
    expect(lock.busy).toBe(false);
  });

  it('lets a call with the running chain reentrancy id in at once, up to the stack depth', async () => {
    const lock = new TurnLock({ enabled: true, maxStackDepth: 2 });
    const outer = await lock.acquire(undefined);
    expect(outer.reentrancyId).toMatch(/^[0-9a-f-]{36}$/);
    const nested = await lock.acquire(outer.reentrancyId);
    await expect(lock.acquire(outer.reentrancyId)).rejects.toMatchObject({ code: 'ERR_ACTOR_STACK_DEPTH' });
    nested.release();
    outer.release();
    expect(lock.busy).toBe(false);
  });

  it('queues a call with a reentrancy id when reentrancy is off', async () => {
    const lock = new TurnLock({ enabled: false, maxStackDepth: 32 });
    const outer = await lock.acquire('chain');
    let entered = false;
    const nested = lock.acquire('chain').then((h) => {
      entered = true;
      return h;
    });
    await Promise.resolve();
    expect(entered).toBe(false);
    outer.release();
    (await nested).release();
    expect(entered).toBe(true);
  });

  it('fails queued calls when closed', async () => {
    const lock = new TurnLock({ enabled: false, maxStackDepth: 32 });
    const running = await lock.acquire(undefined);
    const waiting = lock.acquire(undefined);
    lock.close();
    await expect(waiting).rejects.toBeInstanceOf(ActorClosedError);
    running.release();
    await expect(lock.acquire(undefined)).rejects.toBeInstanceOf(ActorClosedError);
  });
});
