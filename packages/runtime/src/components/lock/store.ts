/**
 * The distributed lock contract (`lock.*` components): try to take a lock on a resource for an owner
 * with an expiry, and release it. The key a driver sees is already Dapr's modified key
 * (`lock||<appId>||<resourceId>`, see `blocks/lock/lock-keys.ts`).
 *
 * Deliberately not in the contract: waiting for a lock (Dapr's API is try-only), renewing a lock, and
 * reentrancy (a second try by the same owner fails, as it does on Dapr's Redis store).
 */
import type { Component } from '../component.js';

/** Dapr's unlock statuses (`UnlockResponse.Status`), numeric on the wire. */
export const UnlockStatus = {
  SUCCESS: 0,
  LOCK_DOES_NOT_EXIST: 1,
  LOCK_BELONGS_TO_OTHERS: 2,
  INTERNAL_ERROR: 3,
} as const;

/** One of {@link UnlockStatus}. */
export type UnlockStatusValue = (typeof UnlockStatus)[keyof typeof UnlockStatus];

/** A lock request. */
export interface TryLockRequest {
  key: string;
  owner: string;
  /** Positive; the lock frees itself this long after it was taken. */
  expiryInSeconds: number;
}

/** A lock store. */
export interface LockStore extends Component {
  /** True when the lock was taken; false when someone (anyone, the same owner too) holds it. */
  tryLock(request: TryLockRequest): Promise<boolean>;
  /** Releases the lock when `owner` holds it; an expired lock does not exist. */
  unlock(key: string, owner: string): Promise<UnlockStatusValue>;
}
