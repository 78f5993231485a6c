/**
 * Where the scripts find the services, and a small JSON client for them.
 *
 * - `SHOP_URL=http://localhost` : everything behind the Kubernetes ingress (`/customers-service/...`).
 * - otherwise each service on its local port from `weft run -f examples/shop` (8001–8004), also under
 *   its base path; `CUSTOMERS_URL`, `PRODUCTS_URL`, `REVIEWS_URL`, `ORDERS_URL` override one service.
 */
export const SERVICES = ['customers', 'products', 'reviews', 'orders'] as const;
export type Service = (typeof SERVICES)[number];

const LOCAL_PORTS: Record<Service, number> = { customers: 8001, products: 8002, reviews: 8003, orders: 8004 };

/** The base URL of a service, ending in its base path (`…/customers-service`). */
export function serviceUrl(service: Service, env: NodeJS.ProcessEnv = process.env): string {
  const own = env[`${service.toUpperCase()}_URL`];
  const root = own ?? env['SHOP_URL'] ?? `http://127.0.0.1:${LOCAL_PORTS[service]}`;
  return `${root.replace(/\/$/, '')}/${service}-service`;
}

/** A response: status and parsed JSON body (undefined when empty). */
export interface Reply {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** Sends `body` as JSON to `service` at `path` (e.g. `/customers/1`). */
export async function request(service: Service, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${serviceUrl(service)}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}
