/**
 * The shop's endpoints end to end: each service's app → its `weft sidecar` → the production
 * `state.postgresql` component on the real Postgres (unique tables per run). Success and failure
 * cases of every endpoint, concurrent stock decrements, and the 503 path with the customers store's
 * Postgres connection cut by a proxy.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, SERVICES, requireService } from '../../../test/support/services.js';
import { call, startShop } from './support/shop-stack.js';
import type { ShopStack } from './support/shop-stack.js';
import type { CustomerItem } from '../src/customers/model.js';
import type { ProductResponse } from '../src/products/model.js';
import type { ReviewItem } from '../src/reviews/model.js';
import type { Order } from '../src/orders/model.js';

const runs = await requireService(SERVICES.postgres, 'examples/shop');

describe.runIf(runs)('shop services on Postgres', () => {
  let shop: ShopStack;
  let db: pg.Client;
  const customers = (path = '') => `${shop.url.customers}/customers${path}`;
  const products = (path = '') => `${shop.url.products}/products${path}`;
  const reviews = (path = '') => `${shop.url.reviews}/reviews${path}`;
  const orders = (path = '') => `${shop.url.orders}/orders${path}`;
  /** The stored JSON of `key` in a service's table, straight from Postgres (Dapr's v1 layout: `value jsonb`). */
  const storedRow = async (table: string, key: string): Promise<unknown> => {
    const res = await db.query<{ value: unknown }>(`SELECT value FROM ${table} WHERE key = $1`, [key]);
    return res.rows[0]?.value;
  };

  beforeAll(async () => {
    shop = await startShop();
    db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    if (db) {
      for (const table of Object.values(shop?.table ?? {})) await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await db.end();
    }
    await shop?.stop();
  }, 60_000);

  describe('common', () => {
    it('answers /health on every service, at the root and under the base path', async () => {
      for (const [name, url] of Object.entries(shop.url)) {
        const root = await call('GET', `${url}/health`);
        expect(root.status).toBe(200);
        expect(root.body).toEqual({ status: 'healthy', service: name });
        expect((await call('GET', `${url}/${name}-service/health`)).status).toBe(200);
      }
    });

    it('allows every origin (CORS), including preflight requests', async () => {
      const get = await call('GET', `${shop.url.customers}/health`, undefined, { origin: 'http://shop.example' });
      expect(get.headers.get('access-control-allow-origin')).toBe('http://shop.example');
      const preflight = await fetch(customers(), {
        method: 'OPTIONS',
        headers: { origin: 'http://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://shop.example');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    });

    it('answers 404 with a detail for an unknown route and 400 for malformed JSON', async () => {
      const missing = await call('GET', `${shop.url.customers}/nothing-here`);
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain('/nothing-here');
      const malformed = await call('POST', customers(), '{"customerName": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.detail).toBeTruthy();
    });
  });

  describe('customers', () => {
    it('creates a customer with a generated id and BRONZE by default, stored in snake_case under the bare id', async () => {
      const created = await call<CustomerItem>('POST', customers(), { customerName: 'Ada Lovelace', email: 'ada@example.com' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ customerName: 'Ada Lovelace', email: 'ada@example.com', loyaltyTier: 'BRONZE' });
      expect(Number.isInteger(created.body.customerId) && created.body.customerId > 0).toBe(true);
      const read = await call<CustomerItem>('GET', customers(`/${created.body.customerId}`));
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      // keyPrefix none: the key is the id alone; the value is snake_case.
      expect(await storedRow(shop.table.customers, String(created.body.customerId))).toEqual({
        customer_id: created.body.customerId,
        customer_name: 'Ada Lovelace',
        loyalty_tier: 'BRONZE',
        email: 'ada@example.com',
      });
    });

    it('creates a customer with a given id and tier, and refuses the same id again with 400', async () => {
      const body = { customerId: 1001, customerName: 'Grace', email: 'grace@example.com', loyaltyTier: 'GOLD' };
      const first = await call('POST', customers(), body);
      expect(first.status).toBe(201);
      expect(first.body).toEqual(body);
      const again = await call('POST', customers(), { ...body, customerName: 'Impostor' });
      expect(again.status).toBe(400);
      expect(again.body.detail).toBe('Customer with ID 1001 already exists');
      expect((await call<CustomerItem>('GET', customers('/1001'))).body.customerName).toBe('Grace');
    });

    it('gives concurrent creates of one id to exactly one caller', async () => {
      const body = { customerId: 1500, customerName: 'Racer', email: 'race@example.com' };
      const results = await Promise.all(Array.from({ length: 8 }, () => call('POST', customers(), body)));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400)).toHaveLength(7);
    });

    it.each([
      ['a missing name', { email: 'x@example.com' }, 'customerName'],
      ['an empty name', { customerName: '  ', email: 'x@example.com' }, 'customerName'],
      ['a bad email', { customerName: 'X', email: 'not-an-email' }, 'email'],
      ['an unknown tier', { customerName: 'X', email: 'x@example.com', loyaltyTier: 'PLATINUM' }, 'loyaltyTier'],
      ['a negative id', { customerId: -4, customerName: 'X', email: 'x@example.com' }, 'customerId'],
      ['an unknown field', { customerName: 'X', email: 'x@example.com', vip: true }, 'vip'],
    ])('refuses a customer with %s (400 naming the field)', async (_what, body, field) => {
      const res = await call('POST', customers(), body);
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain(field);
    });

    it('answers 404 for an unknown customer and 400 for an id that is not a number', async () => {
      expect((await call('GET', customers('/987654'))).status).toBe(404);
      const bad = await call('GET', customers('/abc'));
      expect(bad.status).toBe(400);
      expect(bad.body.detail).toContain('customer_id');
    });

    it('updates any subset of fields and keeps the rest', async () => {
      await call('POST', customers(), { customerId: 1002, customerName: 'Linus', email: 'linus@example.com' });
      const updated = await call('PUT', customers('/1002'), { loyaltyTier: 'SILVER' });
      expect(updated.status).toBe(200);
      expect(updated.body).toEqual({ customerId: 1002, customerName: 'Linus', email: 'linus@example.com', loyaltyTier: 'SILVER' });
      const renamed = await call('PUT', customers('/1002'), { customerName: 'Linus T', email: 'lt@example.com' });
      expect(renamed.body).toEqual({ customerId: 1002, customerName: 'Linus T', email: 'lt@example.com', loyaltyTier: 'SILVER' });
      expect((await call('GET', customers('/1002'))).body).toEqual(renamed.body);
    });

    it('refuses an update of an unknown customer (404), an empty update and a bad tier (400)', async () => {
      expect((await call('PUT', customers('/987655'), { customerName: 'Nobody' })).status).toBe(404);
      await call('POST', customers(), { customerId: 1003, customerName: 'Edsger', email: 'ewd@example.com' });
      expect((await call('PUT', customers('/1003'), {})).status).toBe(400);
      expect((await call('PUT', customers('/1003'), { loyaltyTier: 'DIAMOND' })).status).toBe(400);
      expect((await call('PUT', customers('/1003'), { email: 'nope' })).status).toBe(400);
    });

    it('deletes a customer (204), then answers 404 for it', async () => {
      await call('POST', customers(), { customerId: 1004, customerName: 'Barbara', email: 'bl@example.com' });
      expect((await call('DELETE', customers('/1004'))).status).toBe(204);
      expect((await call('GET', customers('/1004'))).status).toBe(404);
      expect((await call('DELETE', customers('/1004'))).status).toBe(404);
      expect(await storedRow(shop.table.customers, '1004')).toBeUndefined();
    });

    it('serves the same endpoints under the seed base path /customers-service', async () => {
      const created = await call('POST', `${shop.url.customers}/customers-service/customers`, {
        customerId: 1005,
        customerName: 'Ken',
        email: 'ken@example.com',
      });
      expect(created.status).toBe(201);
      expect((await call('GET', `${shop.url.customers}/customers-service/customers/1005`)).body).toEqual(created.body);
    });
  });

  describe('products', () => {
    const widget = { productId: 2001, productName: 'Widget', productDescription: 'A widget', stockOnHand: 10, lowStockThreshold: 3 };

    it('creates a product (201) with isLowStock, then replaces it (200)', async () => {
      const created = await call<ProductResponse>('POST', products(), widget);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ ...widget, isLowStock: false });
      expect(await storedRow(shop.table.products, '2001')).toEqual({
        product_id: 2001,
        product_name: 'Widget',
        product_description: 'A widget',
        stock_on_hand: 10,
        low_stock_threshold: 3,
      });
      const replaced = await call<ProductResponse>('POST', products(), { ...widget, productName: 'Widget v2', stockOnHand: 2 });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toEqual({ ...widget, productName: 'Widget v2', stockOnHand: 2, isLowStock: true });
      expect((await call('GET', products('/2001'))).body).toEqual(replaced.body);
    });

    it.each([
      ['no productId', { productName: 'X', productDescription: '', stockOnHand: 1, lowStockThreshold: 0 }, 'productId'],
      ['negative stock', { productId: 2002, productName: 'X', productDescription: '', stockOnHand: -1, lowStockThreshold: 0 }, 'stockOnHand'],
      ['fractional stock', { productId: 2002, productName: 'X', productDescription: '', stockOnHand: 1.5, lowStockThreshold: 0 }, 'stockOnHand'],
      ['no threshold', { productId: 2002, productName: 'X', productDescription: '', stockOnHand: 1 }, 'lowStockThreshold'],
      ['no name', { productId: 2002, productDescription: '', stockOnHand: 1, lowStockThreshold: 0 }, 'productName'],
    ])('refuses a product with %s (400)', async (_what, body, field) => {
      const res = await call('POST', products(), body);
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain(field);
      expect((await call('GET', products('/2002'))).status).toBe(404);
    });

    it('increments and decrements stock, and isLowStock follows the threshold', async () => {
      await call('POST', products(), { ...widget, productId: 2003, stockOnHand: 5, lowStockThreshold: 3 });
      const up = await call<ProductResponse>('PUT', products('/2003/increment'), { quantity: 4 });
      expect(up.status).toBe(200);
      expect(up.body).toMatchObject({ stockOnHand: 9, isLowStock: false });
      const down = await call<ProductResponse>('PUT', products('/2003/decrement'), { quantity: 6 });
      expect(down.body).toMatchObject({ stockOnHand: 3, isLowStock: true });
      expect((await call('GET', products('/2003'))).body).toMatchObject({ stockOnHand: 3, isLowStock: true });
    });

    it('refuses a decrement below zero (400) and leaves the stock as it was', async () => {
      await call('POST', products(), { ...widget, productId: 2004, stockOnHand: 2 });
      const res = await call('PUT', products('/2004/decrement'), { quantity: 3 });
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain('Insufficient stock');
      expect((await call<ProductResponse>('GET', products('/2004'))).body.stockOnHand).toBe(2);
    });

    it.each([[{ quantity: 0 }], [{ quantity: -2 }], [{ quantity: 1.5 }], [{}], [{ quantity: '3' }]])(
      'refuses a stock change of %j (400)',
      async (body) => {
        await call('POST', products(), { ...widget, productId: 2005 });
        expect((await call('PUT', products('/2005/increment'), body)).status).toBe(400);
        expect((await call('PUT', products('/2005/decrement'), body)).status).toBe(400);
      },
    );

    it('answers 404 for stock changes, reads and deletes of an unknown product', async () => {
      expect((await call('PUT', products('/2999/increment'), { quantity: 1 })).status).toBe(404);
      expect((await call('PUT', products('/2999/decrement'), { quantity: 1 })).status).toBe(404);
      expect((await call('GET', products('/2999'))).status).toBe(404);
      expect((await call('DELETE', products('/2999'))).status).toBe(404);
    });

    it('never oversells: 30 concurrent decrements of 1 against a stock of 10 sell exactly 10', async () => {
      await call('POST', products(), { ...widget, productId: 2006, stockOnHand: 10 });
      const results = await Promise.all(Array.from({ length: 30 }, () => call('PUT', products('/2006/decrement'), { quantity: 1 })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 400)).toHaveLength(20);
      expect((await call<ProductResponse>('GET', products('/2006'))).body.stockOnHand).toBe(0);
    });

    it('loses no update when increments and decrements race', async () => {
      await call('POST', products(), { ...widget, productId: 2007, stockOnHand: 50 });
      const ops = Array.from({ length: 40 }, (_, i) => call('PUT', products(`/2007/${i % 2 === 0 ? 'increment' : 'decrement'}`), { quantity: i % 2 === 0 ? 3 : 2 }));
      const results = await Promise.all(ops);
      expect(results.every((r) => r.status === 200)).toBe(true);
      // 20 × +3 and 20 × −2 from 50.
      expect((await call<ProductResponse>('GET', products('/2007'))).body.stockOnHand).toBe(70);
    });

    it('deletes a product (204)', async () => {
      await call('POST', products(), { ...widget, productId: 2008 });
      expect((await call('DELETE', products('/2008'))).status).toBe(204);
      expect((await call('GET', products('/2008'))).status).toBe(404);
    });
  });

  describe('reviews', () => {
    it('creates a review with a generated id and empty text by default', async () => {
      const res = await call<ReviewItem>('POST', reviews(), { productId: 2001, customerId: 1001, rating: 4 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ productId: 2001, customerId: 1001, rating: 4, reviewText: '' });
      expect(await storedRow(shop.table.reviews, String(res.body.reviewId))).toEqual({
        review_id: res.body.reviewId,
        product_id: 2001,
        customer_id: 1001,
        rating: 4,
        review_text: '',
      });
      expect((await call('GET', reviews(`/${res.body.reviewId}`))).body).toEqual(res.body);
    });

    it('refuses a duplicate review id (400)', async () => {
      const body = { reviewId: 3001, productId: 2001, customerId: 1001, rating: 5, reviewText: 'Great' };
      expect((await call('POST', reviews(), body)).status).toBe(201);
      const again = await call('POST', reviews(), body);
      expect(again.status).toBe(400);
      expect(again.body.detail).toBe('Review with ID 3001 already exists');
    });

    it.each([0, 6, 3.5, '4', null])('refuses a rating of %j (400)', async (rating) => {
      const res = await call('POST', reviews(), { productId: 2001, customerId: 1001, rating });
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain('rating');
    });

    it('refuses a review without product or customer (400)', async () => {
      expect((await call('POST', reviews(), { customerId: 1001, rating: 3 })).status).toBe(400);
      expect((await call('POST', reviews(), { productId: 2001, rating: 3 })).status).toBe(400);
    });

    it('updates rating and text; refuses a bad rating, an empty update (400) and an unknown review (404)', async () => {
      await call('POST', reviews(), { reviewId: 3002, productId: 2001, customerId: 1001, rating: 2, reviewText: 'Meh' });
      const updated = await call('PUT', reviews('/3002'), { rating: 3 });
      expect(updated.status).toBe(200);
      expect(updated.body).toEqual({ reviewId: 3002, productId: 2001, customerId: 1001, rating: 3, reviewText: 'Meh' });
      expect((await call('PUT', reviews('/3002'), { reviewText: 'Better now' })).body).toMatchObject({ rating: 3, reviewText: 'Better now' });
      expect((await call('PUT', reviews('/3002'), { rating: 9 })).status).toBe(400);
      expect((await call('PUT', reviews('/3002'), {})).status).toBe(400);
      expect((await call('PUT', reviews('/3999'), { rating: 1 })).status).toBe(404);
      expect((await call<ReviewItem>('GET', reviews('/3002'))).body.rating).toBe(3);
    });

    it('deletes a review (204) and answers 404 afterwards', async () => {
      await call('POST', reviews(), { reviewId: 3003, productId: 2001, customerId: 1001, rating: 1 });
      expect((await call('DELETE', reviews('/3003'))).status).toBe(204);
      expect((await call('GET', reviews('/3003'))).status).toBe(404);
      expect((await call('DELETE', reviews('/3003'))).status).toBe(404);
      expect((await call('GET', reviews('/x'))).status).toBe(400);
    });
  });

  describe('orders', () => {
    const items = [
      { productId: 2001, quantity: 2 },
      { productId: 2003, quantity: 1 },
    ];

    it('creates a PENDING order with a generated id, stored in snake_case', async () => {
      const res = await call<Order>('POST', orders(), { customerId: 1001, items });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ customerId: 1001, items, status: 'PENDING' });
      expect(await storedRow(shop.table.orders, String(res.body.orderId))).toEqual({
        order_id: res.body.orderId,
        customer_id: 1001,
        items: [
          { product_id: 2001, quantity: 2 },
          { product_id: 2003, quantity: 1 },
        ],
        status: 'PENDING',
      });
      expect((await call('GET', orders(`/${res.body.orderId}`))).body).toEqual(res.body);
    });

    it.each([
      ['no items', { customerId: 1001, items: [] }, 'at least one item'],
      ['the same product twice', { customerId: 1001, items: [{ productId: 1, quantity: 1 }, { productId: 1, quantity: 2 }] }, 'only once'],
      ['a zero quantity', { customerId: 1001, items: [{ productId: 1, quantity: 0 }] }, 'quantity'],
      ['no customer', { items: [{ productId: 1, quantity: 1 }] }, 'customerId'],
      ['a status of its own', { customerId: 1001, items: [{ productId: 1, quantity: 1 }], status: 'PAID' }, 'status'],
    ])('refuses an order with %s (400)', async (_what, body, text) => {
      const res = await call('POST', orders(), body);
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain(text);
    });

    it('refuses a duplicate order id (400)', async () => {
      expect((await call('POST', orders(), { orderId: 4001, customerId: 1001, items })).status).toBe(201);
      const again = await call('POST', orders(), { orderId: 4001, customerId: 1002, items });
      expect(again.status).toBe(400);
      expect(again.body.detail).toBe('Order with ID 4001 already exists');
    });

    it('moves through statuses and refuses any change once DELIVERED', async () => {
      await call('POST', orders(), { orderId: 4002, customerId: 1001, items });
      for (const status of ['PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED']) {
        const res = await call<Order>('PUT', orders('/4002/status'), { status });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(status);
      }
      const after = await call('PUT', orders('/4002/status'), { status: 'CANCELLED' });
      expect(after.status).toBe(400);
      expect(after.body.detail).toContain('delivered');
      expect((await call<Order>('GET', orders('/4002'))).body.status).toBe('DELIVERED');
    });

    it('refuses any change once CANCELLED', async () => {
      await call('POST', orders(), { orderId: 4003, customerId: 1001, items });
      expect((await call('PUT', orders('/4003/status'), { status: 'CANCELLED' })).status).toBe(200);
      const res = await call('PUT', orders('/4003/status'), { status: 'PAID' });
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain('cancelled');
    });

    it('refuses an unknown status (400) and answers 404 for an unknown order', async () => {
      await call('POST', orders(), { orderId: 4004, customerId: 1001, items });
      expect((await call('PUT', orders('/4004/status'), { status: 'LOST' })).status).toBe(400);
      expect((await call('PUT', orders('/4004/status'), {})).status).toBe(400);
      expect((await call('PUT', orders('/4999/status'), { status: 'PAID' })).status).toBe(404);
      expect((await call('GET', orders('/4999'))).status).toBe(404);
    });

    it('deletes an order (204) and answers 404 afterwards', async () => {
      await call('POST', orders(), { orderId: 4005, customerId: 1001, items });
      expect((await call('DELETE', orders('/4005'))).status).toBe(204);
      expect((await call('GET', orders('/4005'))).status).toBe(404);
      expect((await call('DELETE', orders('/4005'))).status).toBe(404);
    });
  });

  describe('state store outage', () => {
    it('answers 503 while the customers store cannot reach Postgres, other services keep working, and it recovers', async () => {
      await call('POST', customers(), { customerId: 1900, customerName: 'Before', email: 'before@example.com' });
      shop.customersProxy.drop();
      try {
        const read = await call('GET', customers('/1900'));
        expect(read.status).toBe(503);
        expect(read.body.detail).toContain('State store');
        expect(read.headers.get('retry-after')).toBe('5');
        expect((await call('POST', customers(), { customerName: 'During', email: 'during@example.com' })).status).toBe(503);
        expect((await call('PUT', customers('/1900'), { customerName: 'During' })).status).toBe(503);
        expect((await call('DELETE', customers('/1900'))).status).toBe(503);
        // Health is the app's own liveness: it does not depend on the store.
        expect((await call('GET', `${shop.url.customers}/health`)).status).toBe(200);
        // Only the customers store is cut.
        expect((await call('GET', products('/2001'))).status).toBe(200);
      } finally {
        shop.customersProxy.heal();
      }
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await call('GET', customers('/1900'))).status;
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
      expect((await call<CustomerItem>('GET', customers('/1900'))).body.customerName).toBe('Before');
    });
  });
});
