/**
 * A service's records in its Dapr state store, through the `@dapr/dapr` client, with the ETag
 * operations the services need: read with ETag, insert-only, compare-and-swap replace, delete.
 *
 * Failures talking to the store (sidecar unreachable, store missing or down) become
 * {@link StateStoreUnavailableError} (HTTP 503); an ETag or first-write check that fails is reported
 * as a result, never thrown, because callers retry or answer 400 on it.
 */
import type { DaprClient } from '@dapr/dapr';
import { StateConcurrencyEnum, StateConsistencyEnum } from '@dapr/dapr';

/** The state store (or the sidecar in front of it) cannot serve the request. */
export class StateStoreUnavailableError extends Error {
  constructor(
    readonly storeName: string,
    readonly detail: string,
  ) {
    super(`state store "${storeName}" is unavailable: ${detail}`);
    this.name = 'StateStoreUnavailableError';
  }
}

/** A stored record and the ETag it was read with. */
export interface StoredRecord<T> {
  value: T;
  etag: string;
}

/** Outcome of a conditional write: `conflict` when the key exists (insert) or changed (replace). */
export type WriteOutcome = 'written' | 'conflict';

interface BulkItem {
  key: string;
  data?: unknown;
  etag?: string;
  error?: string;
}

/** The HTTP status and body the SDK folds into an error's message (`{"status":409,"error_msg":"…"}`). */
function sidecarStatus(err: unknown): { status?: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  try {
    const parsed = JSON.parse(message) as { status?: unknown; error_msg?: unknown };
    return {
      ...(typeof parsed.status === 'number' ? { status: parsed.status } : {}),
      message: typeof parsed.error_msg === 'string' && parsed.error_msg !== '' ? parsed.error_msg : message,
    };
  } catch {
    // Not the SDK's JSON: a network error (sidecar down, connection reset).
    return { message };
  }
}

/** Records of type `T` (the snake_case storage shape) keyed by string ids. */
export class StateRepository<T> {
  constructor(
    private readonly client: DaprClient,
    /** The Dapr state store component, e.g. `customers-store`. */
    readonly storeName: string,
  ) {}

  /** The record and its ETag, or undefined when the key is absent. */
  async read(key: string): Promise<StoredRecord<T> | undefined> {
    let items: BulkItem[];
    try {
      // Bulk get is the SDK's only read that returns the ETag.
      items = (await this.client.state.getBulk(this.storeName, [key])) as BulkItem[];
    } catch (err) {
      throw new StateStoreUnavailableError(this.storeName, sidecarStatus(err).message);
    }
    const item = Array.isArray(items) ? items.find((i) => i.key === key) : undefined;
    if (item?.error) throw new StateStoreUnavailableError(this.storeName, item.error);
    if (item === undefined || item.data === undefined || item.data === null || item.data === '') return undefined;
    return { value: item.data as T, etag: item.etag ?? '' };
  }

  /** Saves only if the key does not exist yet (first-write without an ETag). */
  insert(key: string, value: T): Promise<WriteOutcome> {
    return this.save(key, value, undefined, true);
  }

  /** Saves only if the record still has `etag` (first-write with an ETag). */
  replace(key: string, value: T, etag: string): Promise<WriteOutcome> {
    return this.save(key, value, etag, true);
  }

  /** Saves unconditionally (last-write wins). */
  async upsert(key: string, value: T): Promise<void> {
    await this.save(key, value, undefined, false);
  }

  /** Deletes the key, only if it still has `etag` when one is given. */
  async remove(key: string, etag?: string): Promise<WriteOutcome> {
    const result = await this.client.state
      .delete(this.storeName, key, etag ? { etag, concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } : undefined)
      .catch((err: unknown) => ({ error: err }));
    return this.outcome(result.error);
  }

  private async save(key: string, value: T, etag: string | undefined, firstWrite: boolean): Promise<WriteOutcome> {
    const result = await this.client.state
      .save(this.storeName, [
        {
          key,
          value,
          ...(etag ? { etag } : {}),
          ...(firstWrite
            ? { options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE, consistency: StateConsistencyEnum.CONSISTENCY_STRONG } }
            : {}),
        },
      ])
      .catch((err: unknown) => ({ error: err }));
    return this.outcome(result.error);
  }

  /** The SDK returns `{ error }` from save and delete instead of throwing. */
  private outcome(error: unknown): WriteOutcome {
    if (error === undefined || error === null) return 'written';
    const { status, message } = sidecarStatus(error);
    // 409: Dapr's answer to a stale ETag or a first-write on an existing key.
    if (status === 409) return 'conflict';
    throw new StateStoreUnavailableError(this.storeName, message);
  }
}
