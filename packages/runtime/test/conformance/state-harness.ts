/**
 * Per-driver fixture of the state conformance suite: provisions the run's backend, starts an
 * in-process sidecar whose only component is the driver under test, and offers a small client for
 * Dapr's state HTTP API plus direct access to the store instance behind it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../test/support/in-process.js';
import type { StateStore } from '../../src/components/state/store.js';
import { componentYaml, gapReason, hasCapability, newRunId } from './state-drivers.js';
import type { StateBackend, StateCapability, StateDriverSpec } from './state-drivers.js';

/** What a test reads from one response. */
export interface StateResponse {
  status: number;
  headers: Headers;
  /** The raw body bytes. */
  body: Buffer;
  /** The parsed body, or undefined when empty or not JSON. */
  json: unknown;
}

/** The `errorCode` of an error body. */
export function errorCode(res: StateResponse): unknown {
  return (res.json as { errorCode?: unknown } | undefined)?.errorCode;
}

/** Dapr's state HTTP API for one store of one sidecar. */
export class StateApi {
  constructor(
    readonly baseUrl: string,
    readonly store: string,
  ) {}

  /** `POST /v1.0/state/{store}`; `query` is appended as is (e.g. `metadata.ttlInSeconds=1`). */
  save(items: unknown[], query = ''): Promise<StateResponse> {
    return this.send('POST', `/v1.0/state/${this.store}${query ? `?${query}` : ''}`, JSON.stringify(items));
  }

  get(key: string): Promise<StateResponse> {
    return this.send('GET', `/v1.0/state/${this.store}/${encodeURIComponent(key)}`);
  }

  delete(key: string, ifMatch?: string): Promise<StateResponse> {
    return this.send('DELETE', `/v1.0/state/${this.store}/${encodeURIComponent(key)}`, undefined, ifMatch ? { 'if-match': ifMatch } : {});
  }

  bulkGet(keys: string[]): Promise<StateResponse> {
    return this.send('POST', `/v1.0/state/${this.store}/bulk`, JSON.stringify({ keys }));
  }

  transact(operations: unknown[]): Promise<StateResponse> {
    return this.send('POST', `/v1.0/state/${this.store}/transaction`, JSON.stringify({ operations }));
  }

  query(query: unknown): Promise<StateResponse> {
    return this.send('POST', `/v1.0-alpha1/state/${this.store}/query`, JSON.stringify(query));
  }

  /** Reads a key that must exist and returns its parsed value and etag. */
  async read<T = unknown>(key: string): Promise<{ value: T; etag: string }> {
    const res = await this.get(key);
    if (res.status !== 200) throw new Error(`GET ${key}: expected 200, got ${res.status} ${res.body.toString()}`);
    return { value: res.json as T, etag: res.headers.get('etag') ?? '' };
  }

  private async send(method: string, route: string, body?: string, headers: Record<string, string> = {}): Promise<StateResponse> {
    const res = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    let json: unknown;
    try {
      json = bytes.length === 0 ? undefined : (JSON.parse(bytes.toString('utf8')) as unknown);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: bytes, json };
  }
}

/** Everything one driver's run of the suite shares; fields are set in `beforeAll`. */
export interface DriverRun {
  readonly driver: StateDriverSpec;
  /** Unique to this run; part of the app id, tables and custom prefixes. */
  readonly runId: string;
  /** The component name. */
  readonly storeName: string;
  /** App id of the primary sidecar. */
  readonly appId: string;
  readonly backend: StateBackend;
  /** The primary sidecar. */
  readonly sidecar: TestSidecar;
  /** The state API of the primary sidecar. */
  readonly api: StateApi;
  /** The store instance inside the primary sidecar. */
  readonly store: StateStore;
  /** A key unique within the run. */
  key(name: string): string;
  /** Starts another sidecar on the same backend; stopped with the run. */
  startSidecar(appId: string, componentName: string, extraMetadata?: Record<string, string>): Promise<{ sidecar: TestSidecar; api: StateApi }>;
}

/** Registers the hooks that bring one driver's run up and down; call inside its `describe`. */
export function setupDriverRun(driver: StateDriverSpec): DriverRun {
  const runId = newRunId();
  const sidecars: TestSidecar[] = [];
  let counter = 0;
  let dir = '';
  const run = {
    driver,
    runId,
    storeName: 'store',
    appId: `conf-${runId}`,
    key: (name: string) => `${name}-${++counter}`,
    startSidecar: async (appId: string, componentName: string, extraMetadata: Record<string, string> = {}) => {
      const sidecar = await startTestSidecar({ appId, resources: [componentYaml(componentName, driver, run.backend, extraMetadata)] });
      sidecars.push(sidecar);
      return { sidecar, api: new StateApi(sidecar.baseUrl, componentName) };
    },
  } as { -readonly [K in keyof DriverRun]: DriverRun[K] };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-state-conf-${runId}-`));
    run.backend = await driver.provision(runId, dir);
    const { sidecar, api } = await run.startSidecar(run.appId, run.storeName);
    run.sidecar = sidecar;
    run.api = api;
    const store = sidecar.sidecar.components.stateStore(run.storeName);
    if (!store) throw new Error(`component ${run.storeName} did not load`);
    run.store = store;
  });

  afterAll(async () => {
    await Promise.all(sidecars.map((s) => s.stop()));
    await run.backend?.cleanup();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  return run;
}

/** Waits `ms` milliseconds (TTL cases wait for real expiry; there is no clock to fake in Redis). */
/**
 * Asserts a stored JSON value came back as sent: the same bytes, or, for drivers that keep JSON in
 * a normalising column (Dapr's `state.postgresql` v1, jsonb), the same JSON.
 */
export function expectJsonBack(run: DriverRun, body: Buffer, sent: unknown): void {
  if (run.driver.normalisesJson) expect(JSON.parse(body.toString('utf8'))).toEqual(sent);
  else expect(body.toString('utf8')).toBe(JSON.stringify(sent));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A test registrar for cases that need `capability`: for a driver without it the case is registered
 * as skipped, its name carrying the driver's declared reason.
 */
export function casesRequiring(run: DriverRun, capability: StateCapability): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    if (hasCapability(run.driver, capability)) it(name, fn);
    else it.skip(`${name} [skipped: ${gapReason(run.driver, capability)}]`, fn);
  };
}
