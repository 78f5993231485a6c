/** The reviews service's endpoints (seed: `POST/GET/PUT/DELETE /reviews`). */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, ServiceBusyError } from '../shared/errors.js';
import { insertWithUniqueId } from '../shared/ids.js';
import { idParam, parseOr400 } from '../shared/schemas.js';
import type { StateRepository } from '../shared/state-repository.js';
import { timed } from '../shared/timing.js';
import { ReviewCreateRequest, ReviewUpdateRequest, fromRecord, toRecord } from './model.js';
import type { ReviewItem, ReviewRecord } from './model.js';

const UPDATE_ATTEMPTS = 20;

/** Routes over the reviews' repository. */
export function reviewRoutes(repo: StateRepository<ReviewRecord>): FastifyPluginAsync {
  return async (app) => {
    app.post('/reviews', (request, reply) =>
      timed(request.log, 'create_review', async () => {
        const body = parseOr400(ReviewCreateRequest, request.body, 'review');
        let created: ReviewItem | undefined;
        await insertWithUniqueId('Review', body.reviewId, (reviewId) => {
          created = { reviewId, productId: body.productId, customerId: body.customerId, rating: body.rating, reviewText: body.reviewText ?? '' };
          return repo.insert(String(reviewId), toRecord(created));
        });
        return reply.status(201).send(created);
      }),
    );

    app.get('/reviews/:review_id', (request) =>
      timed(request.log, 'get_review', async () => {
        const id = idParam(request.params, 'review_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Review with ID ${id} not found`);
        return fromRecord(stored.value);
      }),
    );

    app.put('/reviews/:review_id', (request) =>
      timed(request.log, 'update_review', async () => {
        const id = idParam(request.params, 'review_id');
        const update = parseOr400(ReviewUpdateRequest, request.body, 'review update');
        for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
          const stored = await repo.read(String(id));
          if (!stored) throw new NotFoundError(`Review with ID ${id} not found`);
          const current = fromRecord(stored.value);
          const next: ReviewItem = {
            ...current,
            ...(update.rating !== undefined ? { rating: update.rating } : {}),
            ...(update.reviewText !== undefined ? { reviewText: update.reviewText ?? '' } : {}),
          };
          if ((await repo.replace(String(id), toRecord(next), stored.etag)) === 'written') return next;
        }
        throw new ServiceBusyError(`Review ${id} is being updated concurrently, try again`);
      }),
    );

    app.delete('/reviews/:review_id', (request, reply) =>
      timed(request.log, 'delete_review', async () => {
        const id = idParam(request.params, 'review_id');
        const stored = await repo.read(String(id));
        if (!stored) throw new NotFoundError(`Review with ID ${id} not found`);
        await repo.remove(String(id));
        return reply.status(204).send();
      }),
    );
  };
}
