/**
 * `state.in-memory`: the reference implementation of the state contract. Every other driver must
 * behave like this one under the conformance suite. Data lives in this process only.
 */
import type { MetadataProperties } from '../../metadata.js';
import type { ComponentContext } from '../../component.js';
import { assertNumericEtag, checkWrite, expiryFromTtl } from '../etag.js';
import { evaluateQuery } from '../query.js';
import type {
  BulkStateStore,
  KeyListingStateStore,
  ListKeysRequest,
  QueryableStateStore,
  StateDeleteRequest,
  StateFeature,
  StateGetRequest,
  StateItem,
  StateOperation,
  StateQuery,
  StateQueryResult,
  StateSetRequest,
  TransactionalStateStore,
} from '../store.js';

const FEATURES: readonly StateFeature[] = ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'];
const SWEEP_INTERVAL_MS = 10_000;

/** In-memory state store with etags, TTL, transactions and the query API. */
export class InMemoryStateStore implements TransactionalStateStore, BulkStateStore, QueryableStateStore, KeyListingStateStore {
  private readonly items = new Map<string, StateItem>();
  private version = 0;
  private sweeper: NodeJS.Timeout | undefined;

  async init(_props: MetadataProperties, _context: ComponentContext): Promise<void> {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  features(): readonly StateFeature[] {
    return FEATURES;
  }

  async get(request: StateGetRequest): Promise<StateItem | undefined> {
    return this.live(request.key);
  }

  async listKeys(request: ListKeysRequest): Promise<{ key: string; item: StateItem }[]> {
    const keys = [...this.items.keys()].filter((k) => k.startsWith(request.prefix) && k > (request.after ?? '')).sort();
    const page: { key: string; item: StateItem }[] = [];
    for (const key of keys) {
      if (page.length >= request.limit) break;
      const item = this.live(key);
      if (item) page.push({ key, item });
    }
    return page;
  }

  async bulkGet(keys: readonly string[]): Promise<Map<string, StateItem>> {
    const found = new Map<string, StateItem>();
    for (const key of keys) {
      const item = this.live(key);
      if (item) found.set(key, item);
    }
    return found;
  }

  async set(request: StateSetRequest): Promise<void> {
    this.applyAll([{ type: 'upsert', request }]);
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    this.applyAll([{ type: 'delete', request }]);
  }

  async multi(operations: readonly StateOperation[]): Promise<void> {
    this.applyAll(operations);
  }

  async query(query: StateQuery, keyPrefix: string): Promise<StateQueryResult> {
    const hits = [];
    for (const key of this.items.keys()) {
      if (!key.startsWith(keyPrefix)) continue;
      const item = this.live(key);
      if (item) hits.push({ key, value: item.value, etag: item.etag });
    }
    return evaluateQuery(query, hits);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Validates every operation against a working copy first, so a conflict changes nothing. */
  private applyAll(operations: readonly StateOperation[]): void {
    const staged = new Map<string, StateItem | undefined>();
    const current = (key: string) => (staged.has(key) ? staged.get(key) : this.live(key));
    for (const op of operations) {
      assertNumericEtag(op.request.etag);
      checkWrite(op.request.key, current(op.request.key), op.request);
      if (op.type === 'delete') {
        staged.set(op.request.key, undefined);
      } else {
        const expiresAt = expiryFromTtl(op.request.ttlSeconds);
        staged.set(op.request.key, {
          value: Buffer.from(op.request.value),
          etag: String(++this.version),
          ...(expiresAt ? { expiresAt } : {}),
          ...(op.request.contentType ? { contentType: op.request.contentType } : {}),
        });
      }
    }
    for (const [key, item] of staged) {
      if (item) this.items.set(key, item);
      else this.items.delete(key);
    }
  }

  private live(key: string): StateItem | undefined {
    const item = this.items.get(key);
    if (item?.expiresAt && item.expiresAt.getTime() <= Date.now()) {
      this.items.delete(key);
      return undefined;
    }
    return item;
  }

  private sweep(): void {
    for (const key of this.items.keys()) this.live(key);
  }
}
