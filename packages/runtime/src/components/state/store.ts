/**
 * The state store contract. Required: get/set/delete plus declared features. Optional capabilities
 * (transactions, bulk get, query) are separate interfaces detected with type guards, never assumed.
 *
 * Deliberately not in the contract: key prefixing (`appid||key`) and TTL metadata parsing, which the
 * state building block does once for every driver, and actor state, which later issues add.
 */
import type { Component } from '../component.js';

/** Capabilities a store declares; the metadata API reports them and the API layer checks them. */
export type StateFeature = 'ETAG' | 'TRANSACTIONAL' | 'QUERY_API' | 'TTL' | 'DELETE_WITH_PREFIX' | 'PARTITION_KEY';

/** Concurrency and consistency options of one write. */
export interface StateWriteOptions {
  /** `first-write` with no etag means "only if the key does not exist yet". @default 'last-write' */
  concurrency?: 'first-write' | 'last-write';
  consistency?: 'eventual' | 'strong';
}

/** A write of one key. Keys arrive already prefixed. */
export interface StateSetRequest {
  key: string;
  value: Buffer;
  /** When set, the write succeeds only if the stored etag equals it. */
  etag?: string;
  /** Seconds until expiry; -1 never expires; undefined uses the store's default. */
  ttlSeconds?: number;
  contentType?: string;
  options?: StateWriteOptions;
}

/** A read of one key. */
export interface StateGetRequest {
  key: string;
  consistency?: 'eventual' | 'strong';
}

/** A stored item. */
export interface StateItem {
  value: Buffer;
  etag: string;
  /** When the item expires, if it has a TTL. */
  expiresAt?: Date;
  contentType?: string;
}

/** A delete of one key. */
export interface StateDeleteRequest {
  key: string;
  etag?: string;
  options?: StateWriteOptions;
}

/** One operation of a transaction. */
export type StateOperation =
  | { type: 'upsert'; request: StateSetRequest }
  | { type: 'delete'; request: StateDeleteRequest };

/** The required part of every state store. */
export interface StateStore extends Component {
  features(): readonly StateFeature[];
  /** Returns undefined for a missing or expired key. */
  get(request: StateGetRequest): Promise<StateItem | undefined>;
  /** Throws {@link ETagMismatchError} / {@link ETagInvalidError} on etag conflicts. */
  set(request: StateSetRequest): Promise<void>;
  /** Deleting a missing key without an etag succeeds. */
  delete(request: StateDeleteRequest): Promise<void>;
}

/** Stores that apply several operations atomically. */
export interface TransactionalStateStore extends StateStore {
  /** All or nothing: an etag conflict in any operation rolls every operation back. */
  multi(operations: readonly StateOperation[]): Promise<void>;
  /** Largest number of operations one transaction may hold, if limited. */
  maxTransactionOperations?(): number;
}

/** One page request of {@link KeyListingStateStore.listKeys}. */
export interface ListKeysRequest {
  /** Stored-key prefix (the component's key prefix plus the user's). */
  prefix: string;
  /** Only keys sorting after this stored key (the previous page's last). */
  after?: string;
  limit: number;
}

/** Stores that can list their live keys in key order (the Weft admin API; not a Dapr feature). */
export interface KeyListingStateStore extends StateStore {
  listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]>;
}

/** True when the store can list keys. */
export function isKeyListing(store: StateStore): store is KeyListingStateStore {
  return typeof (store as Partial<KeyListingStateStore>).listKeys === 'function';
}

/** Stores with a native multi-key read. */
export interface BulkStateStore extends StateStore {
  /** Returns one entry per requested key that exists. */
  bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>>;
}

/** A query filter as Dapr's state query API defines it. */
export type QueryFilter =
  | { EQ: Record<string, unknown> }
  | { NEQ: Record<string, unknown> }
  | { GT: Record<string, unknown> }
  | { GTE: Record<string, unknown> }
  | { LT: Record<string, unknown> }
  | { LTE: Record<string, unknown> }
  | { IN: Record<string, unknown[]> }
  | { AND: QueryFilter[] }
  | { OR: QueryFilter[] };

/** A parsed state query. */
export interface StateQuery {
  filter?: QueryFilter;
  sort?: { key: string; order?: 'ASC' | 'DESC' }[];
  page?: { limit?: number; token?: string };
}

/** One query hit (full, prefixed key). */
export interface StateQueryHit {
  key: string;
  value: Buffer;
  etag: string;
}

/** A page of query results. */
export interface StateQueryResult {
  results: StateQueryHit[];
  /** Continuation token, absent on the last page. */
  token?: string;
}

/** Stores that evaluate the query API over JSON values. */
export interface QueryableStateStore extends StateStore {
  /** Queries only keys that start with `keyPrefix`. */
  query(query: StateQuery, keyPrefix: string): Promise<StateQueryResult>;
}

/** The stored etag differs from the one given (or the key is missing and an etag was given). */
export class ETagMismatchError extends Error {
  constructor(key: string) {
    super(`possible etag mismatch. error from state store: etag mismatch for key ${key}`);
    this.name = 'ETagMismatchError';
  }
}

/** The etag given is not in the store's format. */
export class ETagInvalidError extends Error {
  constructor(etag: string) {
    super(`invalid etag value: ${etag}`);
    this.name = 'ETagInvalidError';
  }
}

/** Type guard for {@link TransactionalStateStore}. */
export function isTransactional(store: StateStore): store is TransactionalStateStore {
  return store.features().includes('TRANSACTIONAL') && typeof (store as Partial<TransactionalStateStore>).multi === 'function';
}

/** Type guard for {@link BulkStateStore}. */
export function isBulk(store: StateStore): store is BulkStateStore {
  return typeof (store as Partial<BulkStateStore>).bulkGet === 'function';
}

/** Type guard for {@link QueryableStateStore}. */
export function isQueryable(store: StateStore): store is QueryableStateStore {
  return store.features().includes('QUERY_API') && typeof (store as Partial<QueryableStateStore>).query === 'function';
}
