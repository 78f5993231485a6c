/**
 * A small client for Dapr's state HTTP API that exposes what the SDK's `state.get` hides: the
 * ETag of a read, first-write concurrency and per-item TTL. The rate limiter and the append-only
 * lists need them to be correct under concurrent requests.
 */

/** A value read with its ETag. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

/** Thrown when a write's ETag no longer matches (HTTP 409): someone else wrote first. */
export class EtagConflictError extends Error {
  constructor(key: string) {
    super(`state key "${key}" was changed concurrently`);
    this.name = 'EtagConflictError';
  }
}

/** Options of {@link StateClient.save}. */
export interface SaveOptions {
  /** Only write if the stored ETag still equals this one. */
  etag?: string;
  /** With no `etag`: only write if the key does not exist yet. */
  firstWrite?: boolean;
  ttlSeconds?: number;
}

/** State operations against one store through the local sidecar. */
export class StateClient {
  private readonly base: string;

  constructor(
    private readonly store: string,
    daprHttpPort = process.env['DAPR_HTTP_PORT'] ?? '3500',
  ) {
    this.base = `http://127.0.0.1:${daprHttpPort}/v1.0/state/${encodeURIComponent(store)}`;
  }

  /** Reads a key; undefined when absent (or expired). */
  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const res = await fetch(`${this.base}/${encodeURIComponent(key)}`);
    if (res.status === 204) return undefined;
    if (!res.ok) throw new Error(`state get ${this.store}/${key} failed: HTTP ${res.status} ${await res.text()}`);
    const text = await res.text();
    if (text === '') return undefined;
    return { value: JSON.parse(text) as T, etag: res.headers.get('etag') ?? '' };
  }

  /** Writes a key; throws {@link EtagConflictError} when a concurrency check fails. */
  async save(key: string, value: unknown, options: SaveOptions = {}): Promise<void> {
    const item: Record<string, unknown> = { key, value };
    if (options.etag !== undefined) item['etag'] = options.etag;
    if (options.etag !== undefined || options.firstWrite) item['options'] = { concurrency: 'first-write' };
    if (options.ttlSeconds !== undefined) item['metadata'] = { ttlInSeconds: String(options.ttlSeconds) };
    const res = await fetch(this.base, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([item]),
    });
    if (res.status === 409) throw new EtagConflictError(key);
    if (!res.ok) throw new Error(`state save ${this.store}/${key} failed: HTTP ${res.status} ${await res.text()}`);
  }

  /** Deletes a key (absent keys are fine). */
  async delete(key: string): Promise<void> {
    const res = await fetch(`${this.base}/${encodeURIComponent(key)}`, { method: 'DELETE' });
    if (!res.ok) throw new Error(`state delete ${this.store}/${key} failed: HTTP ${res.status} ${await res.text()}`);
  }

  /**
   * Read-modify-write with optimistic concurrency: applies `change` to the current value and writes
   * it with the read's ETag (or first-write when absent), retrying with jitter on conflicts.
   */
  async update<T, R>(
    key: string,
    change: (current: T | undefined) => { value: T; result: R } | { skip: true; result: R },
    options: { ttlSeconds?: number; maxAttempts?: number } = {},
  ): Promise<R> {
    const maxAttempts = options.maxAttempts ?? 200;
    for (let attempt = 1; ; attempt++) {
      const current = await this.get<T>(key);
      const next = change(current?.value);
      if ('skip' in next) return next.result;
      try {
        await this.save(key, next.value, {
          ...(current ? { etag: current.etag } : { firstWrite: true }),
          ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
        });
        return next.result;
      } catch (err) {
        if (!(err instanceof EtagConflictError) || attempt >= maxAttempts) throw err;
        // Back off a little, randomly, so competing writers stop colliding.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  }
}
