/**
 * The distributed lock API, transport-neutral: validates requests in daprd's order, builds the store
 * key ({@link modifiedLockKey}) and maps store failures to `ERR_TRY_LOCK` / `ERR_UNLOCK`.
 */
import type { ComponentManager } from '../../components/manager.js';
import { readProperty } from '../../components/metadata.js';
import type { LockStore, UnlockStatusValue } from '../../components/lock/store.js';
import { isApiError } from '../../errors/api-error.js';
import { lockErrors } from './lock-errors.js';
import { lockKeyStrategy, modifiedLockKey } from './lock-keys.js';

/** A `TryLockAlpha1` request, decoded from either transport. */
export interface TryLockInput {
  storeName: string;
  resourceId: string;
  lockOwner: string;
  expiryInSeconds: number;
}

/** An `UnlockAlpha1` request. */
export type UnlockInput = Omit<TryLockInput, 'expiryInSeconds'>;

/** Takes and releases locks in the lock stores of one sidecar. */
export class LockBlock {
  private readonly strategies = new Map<string, string>();

  /** Checks every lock store's `keyPrefix` now, so a bad one fails start-up as on daprd. */
  constructor(
    private readonly components: ComponentManager,
    private readonly appId: string,
  ) {
    for (const c of components.ofKind('lock')) {
      try {
        this.strategies.set(c.name, lockKeyStrategy(readProperty(c.properties, 'keyPrefix')));
      } catch (err) {
        throw new Error(`${c.source}: component "${c.name}" (${c.type}): metadata field "keyPrefix": ${(err as Error).message}`);
      }
    }
  }

  /** True when the lock was taken. */
  async tryLock(input: TryLockInput): Promise<boolean> {
    if (!(input.expiryInSeconds > 0)) throw lockErrors.expiryNotPositive(input.storeName);
    const store = this.store(input);
    let key: string;
    try {
      key = this.key(input);
    } catch (err) {
      throw lockErrors.tryLock((err as Error).message, err);
    }
    try {
      return await store.tryLock({ key, owner: input.lockOwner, expiryInSeconds: Math.floor(input.expiryInSeconds) });
    } catch (err) {
      if (isApiError(err)) throw err;
      throw lockErrors.tryLock((err as Error).message, err);
    }
  }

  /** Dapr's numeric unlock status. */
  async unlock(input: UnlockInput): Promise<UnlockStatusValue> {
    const store = this.store(input);
    let key: string;
    try {
      key = this.key(input);
    } catch (err) {
      throw lockErrors.unlock((err as Error).message, err);
    }
    try {
      return await store.unlock(key, input.lockOwner);
    } catch (err) {
      if (isApiError(err)) throw err;
      throw lockErrors.unlock((err as Error).message, err);
    }
  }

  private key(input: UnlockInput): string {
    return modifiedLockKey(input.resourceId, this.strategies.get(input.storeName) ?? 'appid', input.storeName, this.appId);
  }

  /** The checks daprd makes before touching a store, in its order. */
  private store(input: UnlockInput): LockStore {
    if (this.components.ofKind('lock').length === 0) throw lockErrors.notConfigured();
    if (input.resourceId === '') throw lockErrors.resourceIdEmpty(input.storeName);
    if (input.lockOwner === '') throw lockErrors.ownerEmpty(input.storeName);
    const component = this.components.get(input.storeName);
    if (component?.kind !== 'lock') throw lockErrors.notFound(input.storeName);
    return component.instance as LockStore;
  }
}
