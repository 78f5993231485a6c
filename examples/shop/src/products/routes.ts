/**
 * The products service's endpoints (seed: create-or-update, get, increment, decrement, delete).
 * Stock changes are compare-and-swap writes on the record's ETag, retried on conflict, so concurrent
 * decrements never sell stock that is not there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';
import { BadRequestError, NotFoundError, ServiceBusyError } from '../shared/errors.js';
import { idParam, parseOr400 } from '../shared/schemas.js';
import type { StateRepository } from '../shared/state-repository.js';
import { timed } from '../shared/timing.js';
import { ProductCreateRequest, StockUpdateRequest, toRecord, toResponse } from './model.js';
import type { ProductRecord, ProductResponse } from './model.js';

/** Compare-and-swap attempts for one stock change before answering 503 (each loses only to another writer). */
export const STOCK_UPDATE_ATTEMPTS = 100;

/** Routes over the products' repository. */
export function productRoutes(repo: StateRepository<ProductRecord>): FastifyPluginAsync {
  /** Applies `delta` to a product's stock with optimistic concurrency; refuses to go below zero. */
  async function changeStock(id: number, delta: number): Promise<ProductResponse> {
    for (let attempt = 0; attempt < STOCK_UPDATE_ATTEMPTS; attempt++) {
      const stored = await repo.read(String(id));
      if (!stored) throw new NotFoundError(`Product with ID ${id} not found`);
      const stock = stored.value.stock_on_hand + delta;
      if (stock < 0) {
        throw new BadRequestError(`Insufficient stock for product ${id}: ${stored.value.stock_on_hand} on hand, ${-delta} requested`);
      }
      const next: ProductRecord = { ...stored.value, stock_on_hand: stock };
      if ((await repo.replace(String(id), next, stored.etag)) === 'written') return toResponse(next);
      // Another writer won this round; back off a little (jittered) so the losers do not collide again.
      await sleep(Math.floor(Math.random() * Math.min(50, 2 + attempt * 2)));
    }
    throw new ServiceBusyError(`Product ${id} is being updated concurrently, try again`);
  }

  return async (app) => {
    app.post('/products', (request, reply) =>
      timed(request.log, 'upsert_product', async () => {
        const product = parseOr400(ProductCreateRequest, request.body, 'product');
        const key = String(product.productId);
        // Insert first so the answer says whether this created (201) or replaced (200) the product.
        if ((await repo.insert(key, toRecord(product))) === 'written') return reply.status(201).send(toResponse(toRecord(product)));
        await repo.upsert(key, toRecord(product));
        return reply.status(200).send(toResponse(toRecord(product)));
      }),
    );

    app.get('/products/:product_id', (request) =>
      timed(request.log, 'get_product', async () => {
        const id = idParam(request.params, 'product_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Product with ID ${id} not found`);
        return toResponse(stored.value);
      }),
    );

    app.put('/products/:product_id/decrement', (request) =>
      timed(request.log, 'decrement_stock', async () => {
        const id = idParam(request.params, 'product_id');
        const { quantity } = parseOr400(StockUpdateRequest, request.body, 'stock update');
        return changeStock(id, -quantity);
      }),
    );

    app.put('/products/:product_id/increment', (request) =>
      timed(request.log, 'increment_stock', async () => {
        const id = idParam(request.params, 'product_id');
        const { quantity } = parseOr400(StockUpdateRequest, request.body, 'stock update');
        return changeStock(id, quantity);
      }),
    );

    app.delete('/products/:product_id', (request, reply) =>
      timed(request.log, 'delete_product', async () => {
        const id = idParam(request.params, 'product_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Product with ID ${id} not found`);
        await repo.remove(String(id));
        return reply.status(204).send();
      }),
    );
  };
}
