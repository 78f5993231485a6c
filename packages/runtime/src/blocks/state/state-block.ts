/**
 * The state building block, transport-neutral: HTTP and gRPC adapters both call these methods with
 * decoded requests and render what they return or throw ({@link ApiError}).
 */
import type { ComponentManager } from '../../components/manager.js';
import { readProperty } from '../../components/metadata.js';
import { QueryParseError, parseStateQuery } from '../../components/state/query.js';
import {
  ETagInvalidError,
  ETagMismatchError,
  isBulk,
  isKeyListing,
  isQueryable,
  isTransactional,
} from '../../components/state/store.js';
import type { StateOperation, StateStore, StateWriteOptions } from '../../components/state/store.js';
import { commonErrors, errorMessage, stateErrors } from '../../errors/index.js';
import { keyPrefixFor, validateUserKey } from './state-keys.js';

/** Request metadata (`metadata.*` query parameters or per-item `metadata`). */
export type RequestMetadata = Readonly<Record<string, string>>;

/** One item of a save request. */
export interface SaveItem {
  key: string;
  value: Buffer;
  etag?: string;
  metadata?: RequestMetadata;
  options?: StateWriteOptions;
  contentType?: string;
}

/** A stored value as the API returns it. */
export interface StateValue {
  data: Buffer;
  etag: string;
  metadata: Record<string, string>;
  contentType?: string;
}

/** One entry of a bulk get reply. */
export interface BulkStateEntry {
  key: string;
  data?: Buffer;
  etag?: string;
  error?: string;
  metadata?: Record<string, string>;
}

/** One operation of a transaction request. */
export interface TransactionRequestOperation {
  operation: string;
  request: { key: string; value?: Buffer; etag?: string; metadata?: RequestMetadata; options?: StateWriteOptions; contentType?: string };
}

/** A query reply. */
export interface QueryReply {
  results: { key: string; data: Buffer; etag: string }[];
  token?: string;
}

interface ResolvedStore {
  name: string;
  store: StateStore;
  prefix: string;
}

const BULK_DEFAULT_PARALLELISM = 10;

/** Largest TTL Dapr accepts (`math.MaxInt32` seconds, components-contrib `utils.ParseTTL`). */
const MAX_TTL_SECONDS = 2_147_483_647;

/**
 * Parses `ttlInSeconds` as Dapr does: a base-10 integer from -1 to 2^31-1, or undefined. Without the
 * upper bound a huge TTL makes an expiry date JavaScript cannot represent, and the key unreadable.
 */
export function parseTtl(metadata: RequestMetadata | undefined): number | undefined {
  const raw = metadata?.['ttlInSeconds'];
  if (raw === undefined || raw === '') return undefined;
  const ttl = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(ttl) || ttl < -1 || ttl > MAX_TTL_SECONDS) {
    throw commonErrors.malformedRequest(`ttlInSeconds must be an integer from -1 to ${MAX_TTL_SECONDS}, got "${raw}"`);
  }
  return ttl;
}

function validateOptions(options: StateWriteOptions | undefined): void {
  if (!options) return;
  const { concurrency, consistency } = options;
  if (concurrency !== undefined && (concurrency as string) !== '' && concurrency !== 'first-write' && concurrency !== 'last-write') {
    throw commonErrors.malformedRequest(`options.concurrency must be "first-write" or "last-write", got "${String(concurrency)}"`);
  }
  if (consistency !== undefined && (consistency as string) !== '' && consistency !== 'eventual' && consistency !== 'strong') {
    throw commonErrors.malformedRequest(`options.consistency must be "eventual" or "strong", got "${String(consistency)}"`);
  }
}

/** State API operations over the loaded state stores. */
export class StateBlock {
  private readonly prefixes = new Map<string, string>();

  constructor(
    private readonly components: ComponentManager,
    private readonly appId: string,
    private readonly namespace: string,
  ) {}

  /** Reads one key; undefined when missing. */
  async get(storeName: string, key: string, metadata: RequestMetadata = {}): Promise<StateValue | undefined> {
    const { store, prefix, name } = this.resolve(storeName);
    validateUserKey(key);
    try {
      const consistency = metadata['consistency'] as 'strong' | 'eventual' | undefined;
      const item = await store.get({ key: prefix + key, ...(consistency ? { consistency } : {}) });
      if (!item) return undefined;
      return {
        data: item.value,
        etag: item.etag,
        metadata: item.expiresAt ? { ttlExpireTime: item.expiresAt.toISOString() } : {},
        ...(item.contentType ? { contentType: item.contentType } : {}),
      };
    } catch (err) {
      throw stateErrors.get(key, name, errorMessage(err));
    }
  }

  /** Reads many keys; per-key failures are reported in the entry, not thrown. */
  async bulkGet(storeName: string, keys: readonly string[], parallelism = BULK_DEFAULT_PARALLELISM): Promise<BulkStateEntry[]> {
    const { store, prefix, name } = this.resolve(storeName);
    for (const key of keys) validateUserKey(key);
    const toEntry = (key: string, item: { value: Buffer; etag: string; expiresAt?: Date } | undefined): BulkStateEntry =>
      item
        ? { key, data: item.value, etag: item.etag, ...(item.expiresAt ? { metadata: { ttlExpireTime: item.expiresAt.toISOString() } } : {}) }
        : { key };
    if (isBulk(store)) {
      try {
        const found = await store.bulkGet(keys.map((k) => prefix + k));
        return keys.map((key) => toEntry(key, found.get(prefix + key)));
      } catch (err) {
        throw stateErrors.bulkGet(name, errorMessage(err));
      }
    }
    const entries: BulkStateEntry[] = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const index = next++;
        const key = keys[index] as string;
        try {
          entries[index] = toEntry(key, await store.get({ key: prefix + key }));
        } catch (err) {
          entries[index] = { key, error: errorMessage(err) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, keys.length)) }, worker));
    return entries;
  }

  /** Saves items; several items are written atomically when the store is transactional. */
  async save(storeName: string, items: readonly SaveItem[]): Promise<void> {
    const { store, prefix, name } = this.resolve(storeName);
    if (items.length === 0) return;
    const requests = items.map((item) => {
      validateUserKey(item.key);
      validateOptions(item.options);
      const ttlSeconds = parseTtl(item.metadata);
      return {
        key: prefix + item.key,
        value: item.value,
        ...(item.etag !== undefined && item.etag !== '' ? { etag: item.etag } : {}),
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
        ...(item.options ? { options: item.options } : {}),
        ...(item.contentType ? { contentType: item.contentType } : {}),
      };
    });
    try {
      if (requests.length > 1 && isTransactional(store)) {
        await store.multi(requests.map((request) => ({ type: 'upsert', request })));
      } else {
        for (const request of requests) await store.set(request);
      }
    } catch (err) {
      if (err instanceof ETagMismatchError) throw stateErrors.saveEtagMismatch(name, err.message);
      if (err instanceof ETagInvalidError) throw stateErrors.saveEtagInvalid(name, err.message);
      throw stateErrors.save(name, errorMessage(err));
    }
  }

  /** Deletes one key, guarded by an etag when given. */
  async delete(storeName: string, key: string, etag?: string, options?: StateWriteOptions): Promise<void> {
    const { store, prefix } = this.resolve(storeName);
    validateUserKey(key);
    validateOptions(options);
    try {
      await store.delete({ key: prefix + key, ...(etag ? { etag } : {}), ...(options ? { options } : {}) });
    } catch (err) {
      if (err instanceof ETagMismatchError) throw stateErrors.deleteEtagMismatch(key, err.message);
      if (err instanceof ETagInvalidError) throw stateErrors.deleteEtagInvalid(key, err.message);
      throw stateErrors.delete(key, errorMessage(err));
    }
  }

  /** Applies upserts and deletes atomically. */
  async transact(storeName: string, operations: readonly TransactionRequestOperation[], metadata: RequestMetadata = {}): Promise<void> {
    const { store, prefix, name } = this.resolve(storeName);
    if (!isTransactional(store)) throw stateErrors.transactionsNotSupported(name);
    if (operations.length === 0) return;
    const max = store.maxTransactionOperations?.();
    if (max !== undefined && operations.length > max) throw stateErrors.tooManyTransactions(name, max, operations.length);
    const ops: StateOperation[] = operations.map((op) => {
      const { request } = op;
      validateUserKey(request.key);
      validateOptions(request.options);
      const key = prefix + request.key;
      const etag = request.etag !== undefined && request.etag !== '' ? { etag: request.etag } : {};
      const options = request.options ? { options: request.options } : {};
      if (op.operation === 'delete') return { type: 'delete', request: { key, ...etag, ...options } };
      if (op.operation !== 'upsert') throw stateErrors.unsupportedOperation(op.operation);
      const ttlSeconds = parseTtl({ ...metadata, ...request.metadata });
      return {
        type: 'upsert',
        request: {
          key,
          value: request.value ?? Buffer.from('null'),
          ...etag,
          ...options,
          ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
          ...(request.contentType ? { contentType: request.contentType } : {}),
        },
      };
    });
    try {
      await store.multi(ops);
    } catch (err) {
      // Dapr answers every failed transaction, etag conflicts included, with 500 ERR_STATE_TRANSACTION
      // (gRPC INTERNAL); unlike save and delete it does not map etag errors to 409/400.
      throw stateErrors.transaction(errorMessage(err));
    }
  }

  /** Runs a state query over this app's keys. */
  async query(storeName: string, rawQuery: unknown): Promise<QueryReply> {
    const { store, prefix, name } = this.resolve(storeName);
    if (!isQueryable(store)) throw stateErrors.queryNotSupported(name);
    let query;
    try {
      query = parseStateQuery(rawQuery);
    } catch (err) {
      throw commonErrors.malformedRequest(`invalid state query: ${errorMessage(err)}`);
    }
    try {
      const result = await store.query(query, prefix);
      return {
        results: result.results.map((hit) => ({ key: hit.key.slice(prefix.length), data: hit.value, etag: hit.etag })),
        ...(result.token ? { token: result.token } : {}),
      };
    } catch (err) {
      if (err instanceof QueryParseError) throw commonErrors.malformedRequest(`invalid state query: ${err.message}`);
      throw stateErrors.query(name, errorMessage(err));
    }
  }

  /**
   * Lists live keys by user-key prefix in key order, a page at a time (the Weft admin API; Dapr has
   * no key listing). `after` is the last user key of the previous page. Undefined when the store
   * cannot list keys.
   */
  async listKeys(
    storeName: string,
    userPrefix: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ key: string; item: { value: Buffer; etag: string; expiresAt?: Date; contentType?: string } }[] | undefined> {
    const { store, prefix, name } = this.resolve(storeName);
    if (!isKeyListing(store)) return undefined;
    try {
      const rows = await store.listKeys({ prefix: prefix + userPrefix, ...(after !== undefined ? { after: prefix + after } : {}), limit });
      return rows.map((r) => ({ key: r.key.slice(prefix.length), item: r.item }));
    } catch (err) {
      throw stateErrors.get(userPrefix + '*', name, errorMessage(err));
    }
  }

  /** Names of the loaded state stores that can list keys. */
  listableStores(): string[] {
    return this.components
      .ofKind('state')
      .filter((c) => isKeyListing(c.instance as StateStore))
      .map((c) => c.name);
  }

  private resolve(storeName: string): ResolvedStore {
    const stores = this.components.ofKind('state');
    if (stores.length === 0) throw stateErrors.storesNotConfigured(this.appId);
    const component = this.components.get(storeName);
    if (!component || component.kind !== 'state') throw stateErrors.storeNotFound(storeName, this.appId);
    let prefix = this.prefixes.get(storeName);
    if (prefix === undefined) {
      prefix = keyPrefixFor(component.properties, storeName, this.appId, this.namespace);
      this.prefixes.set(storeName, prefix);
    }
    return { name: storeName, store: component.instance as StateStore, prefix };
  }
}

/** True when the component is marked as the actor/workflow state store. */
export function isActorStateStore(properties: Readonly<Record<string, string>>): boolean {
  return (readProperty(properties, 'actorStateStore') ?? '').toLowerCase() === 'true';
}

