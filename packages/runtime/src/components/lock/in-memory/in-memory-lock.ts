/**
 * `lock.in-memory`: locks in this process only, the reference implementation of the lock contract
 * (as Dapr's `lock.in-memory`). Useful for tests and single-process apps; it does not coordinate
 * processes (use `lock.sqlite`, `lock.redis` or `lock.postgresql` for that).
 */
import type { LockStore, TryLockRequest, UnlockStatusValue } from '../store.js';
import { UnlockStatus } from '../store.js';

/** In-process lock store. */
export class InMemoryLockStore implements LockStore {
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  async init(): Promise<void> {}

  async tryLock(request: TryLockRequest): Promise<boolean> {
    const now = Date.now();
    const held = this.locks.get(request.key);
    if (held && held.expiresAt > now) return false;
    this.locks.set(request.key, { owner: request.owner, expiresAt: now + request.expiryInSeconds * 1000 });
    return true;
  }

  async unlock(key: string, owner: string): Promise<UnlockStatusValue> {
    const held = this.locks.get(key);
    if (!held || held.expiresAt <= Date.now()) {
      this.locks.delete(key);
      return UnlockStatus.LOCK_DOES_NOT_EXIST;
    }
    if (held.owner !== owner) return UnlockStatus.LOCK_BELONGS_TO_OTHERS;
    this.locks.delete(key);
    return UnlockStatus.SUCCESS;
  }

  async close(): Promise<void> {
    this.locks.clear();
  }
}
