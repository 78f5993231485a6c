/**
 * Smoke-tests every endpoint of the four services and prints one line per check — the seed's
 * `setup/test-apis.sh` for all services. Uses fresh random ids and deletes what it creates, so it can
 * run against a shop with data in it. Exits 1 when a check fails.
 *
 *   npm run test-apis -w examples/shop                               # against `weft run -f examples/shop`
 *   SHOP_URL=http://localhost npm run test-apis -w examples/shop     # through the ingress
 */
import { randomInt } from 'node:crypto';
import { request } from './shop-client.js';
import type { Service } from './shop-client.js';

let failed = 0;
let passed = 0;

/** Sends one request and checks its status (and optionally its body). */
async function check(
  title: string,
  service: Service,
  method: string,
  path: string,
  body: unknown,
  expected: number,
  verify: (reply: Record<string, unknown> | undefined) => boolean = () => true,
): Promise<Record<string, unknown> | undefined> {
  let outcome: string;
  let reply: Record<string, unknown> | undefined;
  try {
    const res = await request(service, method, path, body);
    reply = res.body;
    const ok = res.status === expected && verify(res.body);
    outcome = ok ? 'PASS' : `FAIL (HTTP ${res.status}, expected ${expected}: ${JSON.stringify(res.body)})`;
  } catch (err) {
    outcome = `FAIL (${(err as Error).message})`;
  }
  if (outcome === 'PASS') passed++;
  else failed++;
  console.log(`${outcome.startsWith('PASS') ? '✔' : '✘'} ${service.padEnd(9)} ${title}${outcome === 'PASS' ? '' : ` — ${outcome}`}`);
  return reply;
}

const id = () => randomInt(100_000_000, 2_000_000_000);

for (const service of ['customers', 'products', 'reviews', 'orders'] as const) {
  await check('health', service, 'GET', '/health', undefined, 200, (b) => b?.['status'] === 'healthy');
}

// Customers
const customerId = id();
await check('create customer (BRONZE by default)', 'customers', 'POST', '/customers', { customerId, customerName: 'Smoke Test', email: 'smoke@example.com' }, 201, (b) => b?.['loyaltyTier'] === 'BRONZE');
await check('duplicate customer id → 400', 'customers', 'POST', '/customers', { customerId, customerName: 'Again', email: 'again@example.com' }, 400);
await check('invalid email → 400', 'customers', 'POST', '/customers', { customerName: 'X', email: 'nope' }, 400);
await check('get customer', 'customers', 'GET', `/customers/${customerId}`, undefined, 200, (b) => b?.['customerName'] === 'Smoke Test');
await check('update loyalty tier', 'customers', 'PUT', `/customers/${customerId}`, { loyaltyTier: 'GOLD' }, 200, (b) => b?.['loyaltyTier'] === 'GOLD');
await check('unknown customer → 404', 'customers', 'GET', `/customers/${id()}`, undefined, 404);
const generated = await check('create customer with a generated id', 'customers', 'POST', '/customers', { customerName: 'Generated', email: 'gen@example.com' }, 201, (b) => typeof b?.['customerId'] === 'number');

// Products
const productId = id();
const product = { productId, productName: 'Smoke widget', productDescription: 'for the smoke test', stockOnHand: 5, lowStockThreshold: 2 };
await check('create product', 'products', 'POST', '/products', product, 201, (b) => b?.['isLowStock'] === false);
await check('update product', 'products', 'POST', '/products', { ...product, productDescription: 'updated' }, 200);
await check('increment stock', 'products', 'PUT', `/products/${productId}/increment`, { quantity: 3 }, 200, (b) => b?.['stockOnHand'] === 8);
await check('decrement stock (low stock)', 'products', 'PUT', `/products/${productId}/decrement`, { quantity: 6 }, 200, (b) => b?.['stockOnHand'] === 2 && b['isLowStock'] === true);
await check('decrement below zero → 400', 'products', 'PUT', `/products/${productId}/decrement`, { quantity: 3 }, 400);
await check('quantity 0 → 400', 'products', 'PUT', `/products/${productId}/increment`, { quantity: 0 }, 400);
await check('get product', 'products', 'GET', `/products/${productId}`, undefined, 200, (b) => b?.['stockOnHand'] === 2);

// Reviews
const reviewId = id();
await check('create review', 'reviews', 'POST', '/reviews', { reviewId, productId, customerId, rating: 5, reviewText: 'Smoke-tested' }, 201);
await check('rating 6 → 400', 'reviews', 'POST', '/reviews', { productId, customerId, rating: 6 }, 400);
await check('update review', 'reviews', 'PUT', `/reviews/${reviewId}`, { rating: 4 }, 200, (b) => b?.['rating'] === 4);
await check('get review', 'reviews', 'GET', `/reviews/${reviewId}`, undefined, 200, (b) => b?.['reviewText'] === 'Smoke-tested');

// Orders
const orderId = id();
await check('create order', 'orders', 'POST', '/orders', { orderId, customerId, items: [{ productId, quantity: 1 }] }, 201, (b) => b?.['status'] === 'PENDING');
await check('order without items → 400', 'orders', 'POST', '/orders', { customerId, items: [] }, 400);
await check('duplicate product in order → 400', 'orders', 'POST', '/orders', { customerId, items: [{ productId, quantity: 1 }, { productId, quantity: 1 }] }, 400);
await check('status → SHIPPED', 'orders', 'PUT', `/orders/${orderId}/status`, { status: 'SHIPPED' }, 200);
await check('status → DELIVERED', 'orders', 'PUT', `/orders/${orderId}/status`, { status: 'DELIVERED' }, 200);
await check('change after DELIVERED → 400', 'orders', 'PUT', `/orders/${orderId}/status`, { status: 'CANCELLED' }, 400);
await check('get order', 'orders', 'GET', `/orders/${orderId}`, undefined, 200, (b) => b?.['status'] === 'DELIVERED');

// Clean up
await check('delete order', 'orders', 'DELETE', `/orders/${orderId}`, undefined, 204);
await check('delete review', 'reviews', 'DELETE', `/reviews/${reviewId}`, undefined, 204);
await check('delete product', 'products', 'DELETE', `/products/${productId}`, undefined, 204);
await check('delete customer', 'customers', 'DELETE', `/customers/${customerId}`, undefined, 204);
if (typeof generated?.['customerId'] === 'number') {
  await check('delete generated customer', 'customers', 'DELETE', `/customers/${generated['customerId']}`, undefined, 204);
}
await check('deleted customer → 404', 'customers', 'GET', `/customers/${customerId}`, undefined, 404);

console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
