/** The orders service's endpoints (seed: create, get, status update, delete). */
import type { FastifyPluginAsync } from 'fastify';
import { BadRequestError, NotFoundError, ServiceBusyError } from '../shared/errors.js';
import { insertWithUniqueId } from '../shared/ids.js';
import { idParam, parseOr400 } from '../shared/schemas.js';
import type { StateRepository } from '../shared/state-repository.js';
import { timed } from '../shared/timing.js';
import { FINAL_STATUSES, OrderCreateRequest, OrderStatusUpdateRequest, fromRecord, toRecord } from './model.js';
import type { Order, OrderRecord } from './model.js';

const UPDATE_ATTEMPTS = 20;

/** Routes over the orders' repository. */
export function orderRoutes(repo: StateRepository<OrderRecord>): FastifyPluginAsync {
  return async (app) => {
    app.post('/orders', (request, reply) =>
      timed(request.log, 'create_order', async () => {
        const body = parseOr400(OrderCreateRequest, request.body, 'order');
        let created: Order | undefined;
        await insertWithUniqueId('Order', body.orderId, (orderId) => {
          created = { orderId, customerId: body.customerId, items: body.items, status: 'PENDING' };
          return repo.insert(String(orderId), toRecord(created));
        });
        return reply.status(201).send(created);
      }),
    );

    app.get('/orders/:order_id', (request) =>
      timed(request.log, 'get_order', async () => {
        const id = idParam(request.params, 'order_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Order with ID ${id} not found`);
        return fromRecord(stored.value);
      }),
    );

    app.put('/orders/:order_id/status', (request) =>
      timed(request.log, 'update_order_status', async () => {
        const id = idParam(request.params, 'order_id');
        const { status } = parseOr400(OrderStatusUpdateRequest, request.body, 'status update');
        // Compare-and-swap: a concurrent CANCELLED cannot be overwritten by a status read before it.
        for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
          const stored = await repo.read(String(id));
          if (!stored) throw new NotFoundError(`Order with ID ${id} not found`);
          const current = fromRecord(stored.value);
          if (FINAL_STATUSES.has(current.status)) {
            throw new BadRequestError(`Cannot change status of ${current.status.toLowerCase()} order ${id}`);
          }
          const next: Order = { ...current, status };
          if ((await repo.replace(String(id), toRecord(next), stored.etag)) === 'written') return next;
        }
        throw new ServiceBusyError(`Order ${id} is being updated concurrently, try again`);
      }),
    );

    app.delete('/orders/:order_id', (request, reply) =>
      timed(request.log, 'delete_order', async () => {
        const id = idParam(request.params, 'order_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Order with ID ${id} not found`);
        await repo.remove(String(id));
        return reply.status(204).send();
      }),
    );
  };
}
