/** The customers service's endpoints (seed: `POST/GET/PUT/DELETE /customers`). */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, ServiceBusyError } from '../shared/errors.js';
import { insertWithUniqueId } from '../shared/ids.js';
import { idParam, parseOr400 } from '../shared/schemas.js';
import type { StateRepository } from '../shared/state-repository.js';
import { timed } from '../shared/timing.js';
import { CustomerCreateRequest, CustomerUpdateRequest, fromRecord, toRecord } from './model.js';
import type { CustomerItem, CustomerRecord } from './model.js';

/** Concurrent updates of one customer retry this often before answering 503. */
const UPDATE_ATTEMPTS = 20;

/** Routes over the customers' repository. */
export function customerRoutes(repo: StateRepository<CustomerRecord>): FastifyPluginAsync {
  return async (app) => {
    app.post('/customers', (request, reply) =>
      timed(request.log, 'create_customer', async () => {
        const body = parseOr400(CustomerCreateRequest, request.body, 'customer');
        let created: CustomerItem | undefined;
        await insertWithUniqueId('Customer', body.customerId, (customerId) => {
          created = { customerId, customerName: body.customerName, email: body.email, loyaltyTier: body.loyaltyTier };
          return repo.insert(String(customerId), toRecord(created));
        });
        return reply.status(201).send(created);
      }),
    );

    app.get('/customers/:customer_id', (request) =>
      timed(request.log, 'get_customer', async () => {
        const id = idParam(request.params, 'customer_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Customer with ID ${id} not found`);
        return fromRecord(stored.value);
      }),
    );

    app.put('/customers/:customer_id', (request) =>
      timed(request.log, 'update_customer', async () => {
        const id = idParam(request.params, 'customer_id');
        const update = parseOr400(CustomerUpdateRequest, request.body, 'customer update');
        for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
          const stored = await repo.read(String(id));
          if (!stored) throw new NotFoundError(`Customer with ID ${id} not found`);
          const current = fromRecord(stored.value);
          const next: CustomerItem = {
            ...current,
            ...(update.customerName !== undefined ? { customerName: update.customerName } : {}),
            ...(update.email !== undefined ? { email: update.email } : {}),
            ...(update.loyaltyTier !== undefined ? { loyaltyTier: update.loyaltyTier } : {}),
          };
          if ((await repo.replace(String(id), toRecord(next), stored.etag)) === 'written') return next;
        }
        throw new ServiceBusyError(`Customer ${id} is being updated concurrently, try again`);
      }),
    );

    app.delete('/customers/:customer_id', (request, reply) =>
      timed(request.log, 'delete_customer', async () => {
        const id = idParam(request.params, 'customer_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Customer with ID ${id} not found`);
        await repo.remove(String(id));
        return reply.status(204).send();
      }),
    );
  };
}
