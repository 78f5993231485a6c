/**
 * The shop under test: one real `weft sidecar` per service (the production `state.postgresql`
 * component files, with per-run table names) and each service's Fastify app in this process, served
 * on a free port and calling its sidecar over HTTP through `@dapr/dapr`. The customers store reaches
 * Postgres through a fault proxy, so a test can cut that one store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { POSTGRES_URL } from '../../../../test/support/services.js';
import { startFaultProxy } from '../../../../test/support/fault-proxy.js';
import type { FaultProxy } from '../../../../test/support/fault-proxy.js';
import { freePort, startWeftSidecar } from '../../../../test/support/weft-process.js';
import type { WeftProcess } from '../../../../test/support/weft-process.js';
import { buildService } from '../../src/shared/service.js';
import type { ServiceDefinition } from '../../src/shared/service.js';
import { customerRoutes } from '../../src/customers/routes.js';
import { productRoutes } from '../../src/products/routes.js';
import { reviewRoutes } from '../../src/reviews/routes.js';
import { orderRoutes } from '../../src/orders/routes.js';

/** The example's folder. */
export const SHOP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The four services. */
export const SERVICE_NAMES = ['customers', 'products', 'reviews', 'orders'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const DEFINITIONS: Record<ServiceName, ServiceDefinition<never>> = {
  customers: { name: 'customers', routes: customerRoutes as ServiceDefinition<never>['routes'] },
  products: { name: 'products', routes: productRoutes as ServiceDefinition<never>['routes'] },
  reviews: { name: 'reviews', routes: reviewRoutes as ServiceDefinition<never>['routes'] },
  orders: { name: 'orders', routes: orderRoutes as ServiceDefinition<never>['routes'] },
};

/** A running shop. */
export interface ShopStack {
  /** Base URL of each service's app, e.g. `http://127.0.0.1:41234`. */
  url: Record<ServiceName, string>;
  /** Postgres table of each service's store (unique to this run). */
  table: Record<ServiceName, string>;
  /** Sits between the customers sidecar and Postgres. */
  customersProxy: FaultProxy;
  sidecars: Record<ServiceName, WeftProcess>;
  stop(): Promise<void>;
}

/**
 * The production component file of a service with its table renamed: proves the shipped files load,
 * while parallel runs never share a table.
 */
function productionComponent(service: ServiceName, table: string): string {
  const source = fs.readFileSync(path.join(SHOP_DIR, 'components/production', `${service}-store.yaml`), 'utf8');
  const renamed = source.replace(/(- name: tableName\n\s+value: )"[^"]*"/, `$1"${table}"`);
  if (renamed === source) throw new Error(`no tableName in ${service}-store.yaml`);
  return renamed;
}

/** Starts the sidecars and apps. */
export async function startShop(): Promise<ShopStack> {
  const runId = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-shop-'));
  const registry = path.join(tmp, 'registry');
  const pg = new URL(POSTGRES_URL);
  const customersProxy = await startFaultProxy(Number(pg.port || 5432), pg.hostname);
  const viaProxy = new URL(POSTGRES_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(customersProxy.port);
  const env: NodeJS.ProcessEnv = {
    WEFT_REGISTRY_DIR: registry,
    CUSTOMERS_DB_CONNECTION_STRING: viaProxy.toString(),
    PRODUCTS_DB_CONNECTION_STRING: POSTGRES_URL,
    REVIEWS_DB_CONNECTION_STRING: POSTGRES_URL,
    ORDERS_DB_CONNECTION_STRING: POSTGRES_URL,
  };
  const table = Object.fromEntries(SERVICE_NAMES.map((s) => [s, `shop_${s}_${runId}`])) as Record<ServiceName, string>;
  const sidecars: Partial<Record<ServiceName, WeftProcess>> = {};
  const apps: FastifyInstance[] = [];
  const url: Partial<Record<ServiceName, string>> = {};
  const stop = async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await Promise.allSettled(Object.values(sidecars).map((s) => s.stop()));
    await customersProxy.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      SERVICE_NAMES.map(async (service) => {
        const resources = path.join(tmp, `resources-${service}`);
        fs.mkdirSync(resources, { recursive: true });
        fs.writeFileSync(path.join(resources, `${service}-store.yaml`), productionComponent(service, table[service]));
        sidecars[service] = await startWeftSidecar(
          ['--app-id', service, '--resources-path', resources, '--data-dir', path.join(tmp, `data-${service}`)],
          { env, timeoutMs: 60_000 },
        );
      }),
    );
    for (const service of SERVICE_NAMES) {
      const sidecar = sidecars[service];
      if (!sidecar) throw new Error(`no sidecar for ${service}`);
      const { app } = await buildService(DEFINITIONS[service], {
        port: 0,
        host: '127.0.0.1',
        daprHost: '127.0.0.1',
        daprHttpPort: String(sidecar.httpPort),
        stateStoreName: `${service}-store`,
        // Expected failures log at warn; SHOP_TEST_LOG_LEVEL=info shows every operation's timing.
        logLevel: process.env['SHOP_TEST_LOG_LEVEL'] ?? 'silent',
      });
      apps.push(app);
      const port = await freePort();
      await app.listen({ port, host: '127.0.0.1' });
      url[service] = `http://127.0.0.1:${port}`;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: url as Record<ServiceName, string>,
    table,
    customersProxy,
    sidecars: sidecars as Record<ServiceName, WeftProcess>,
    stop,
  };
}

/** A JSON response: status, parsed body (or undefined), headers. */
export interface JsonResponse<T> {
  status: number;
  /** Parsed JSON; undefined for an empty body (204). */
  body: T;
  headers: Headers;
}

/** Calls `url` with an optional JSON body. */
export async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
