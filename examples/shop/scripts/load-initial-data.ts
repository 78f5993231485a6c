/**
 * Seeds the shop with sample customers, products, reviews and orders — the seed's
 * `setup/load-initial-data.sh` for all four services. Safe to run again: records that exist already
 * are reported and left as they are (products are create-or-update, so they are reset).
 *
 *   npm run load-data -w examples/shop             # against `weft run -f examples/shop`
 *   SHOP_URL=http://localhost npm run load-data -w examples/shop   # through the ingress
 */
import { request } from './shop-client.js';
import type { Service } from './shop-client.js';

const customers = [
  { customerId: 1, customerName: 'Ada Lovelace', email: 'ada@example.com', loyaltyTier: 'GOLD' },
  { customerId: 2, customerName: 'Grace Hopper', email: 'grace@example.com', loyaltyTier: 'SILVER' },
  { customerId: 3, customerName: 'Alan Turing', email: 'alan@example.com' },
  { customerId: 4, customerName: 'Katherine Johnson', email: 'katherine@example.com', loyaltyTier: 'GOLD' },
  { customerId: 5, customerName: 'Edsger Dijkstra', email: 'edsger@example.com' },
];

const products = [
  { productId: 1, productName: 'Mechanical keyboard', productDescription: 'Tenkeyless, brown switches', stockOnHand: 120, lowStockThreshold: 20 },
  { productId: 2, productName: 'USB-C dock', productDescription: 'Two displays, 100 W charging', stockOnHand: 35, lowStockThreshold: 10 },
  { productId: 3, productName: '27" monitor', productDescription: '4K IPS', stockOnHand: 8, lowStockThreshold: 10 },
  { productId: 4, productName: 'Desk lamp', productDescription: 'Dimmable LED', stockOnHand: 60, lowStockThreshold: 15 },
  { productId: 5, productName: 'Noise-cancelling headphones', productDescription: 'Over-ear, 30 h battery', stockOnHand: 0, lowStockThreshold: 5 },
];

const reviews = [
  { reviewId: 1, productId: 1, customerId: 1, rating: 5, reviewText: 'Best keyboard I have owned.' },
  { reviewId: 2, productId: 2, customerId: 2, rating: 4, reviewText: 'Works with every laptop here.' },
  { reviewId: 3, productId: 3, customerId: 3, rating: 3 },
  { reviewId: 4, productId: 1, customerId: 4, rating: 4, reviewText: 'Loud but lovely.' },
];

const orders = [
  { orderId: 1, customerId: 1, items: [{ productId: 1, quantity: 1 }, { productId: 4, quantity: 2 }] },
  { orderId: 2, customerId: 2, items: [{ productId: 2, quantity: 1 }] },
  { orderId: 3, customerId: 3, items: [{ productId: 3, quantity: 2 }, { productId: 1, quantity: 1 }] },
];

/** Creates `records`; 201/200 is new or updated, 400 "already exists" is kept. Returns the failures. */
async function load(service: Service, path: string, records: readonly Record<string, unknown>[], idField: string): Promise<number> {
  let failures = 0;
  for (const record of records) {
    const reply = await request(service, 'POST', path, record);
    const id = String(record[idField]);
    if (reply.status === 201 || reply.status === 200) {
      console.log(`  ${service} ${id}: ${reply.status === 201 ? 'created' : 'updated'}`);
    } else if (reply.status === 400 && String(reply.body?.['detail'] ?? '').includes('already exists')) {
      console.log(`  ${service} ${id}: already there`);
    } else {
      failures++;
      console.error(`  ${service} ${id}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    }
  }
  return failures;
}

let failures = 0;
console.log('Loading initial data');
failures += await load('customers', '/customers', customers, 'customerId');
failures += await load('products', '/products', products, 'productId');
failures += await load('reviews', '/reviews', reviews, 'reviewId');
failures += await load('orders', '/orders', orders, 'orderId');
// One order further along, so every status screen has something to show.
const paid = await request('orders', 'PUT', '/orders/2/status', { status: 'PAID' });
if (paid.status !== 200 && paid.status !== 400) failures++;
console.log(failures === 0 ? 'Initial data loaded' : `${failures} record(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
