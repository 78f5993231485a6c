/** The shared error handler maps every failure to the seed's status codes (no sidecar needed). */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BadRequestError, NotFoundError, installErrorHandler } from '../src/shared/errors.js';
import { StateStoreUnavailableError } from '../src/shared/state-repository.js';
import { parseOr400 } from '../src/shared/schemas.js';
import { insertWithUniqueId } from '../src/shared/ids.js';

function appThrowing(error: unknown) {
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  app.get('/boom', () => {
    throw error;
  });
  return app;
}

describe('error handler', () => {
  it.each([
    ['a validation error', () => parseOr400(z.strictObject({ n: z.number() }), { n: 'x' }, 'thing'), 400, 'Invalid thing: n:'],
    ['a bad request', () => new BadRequestError('nope'), 400, 'nope'],
    ['a missing record', () => new NotFoundError('Customer with ID 1 not found'), 404, 'Customer with ID 1 not found'],
    ['an unreachable store', () => new StateStoreUnavailableError('customers-store', 'ECONNREFUSED'), 503, 'State store is not available, try again later'],
    ['an unexpected error', () => new TypeError('x is undefined'), 500, 'Internal server error'],
  ])('answers %s with its status and a detail that leaks no internals', async (_what, make, status, detail) => {
    let error: unknown;
    try {
      error = make();
    } catch (err) {
      error = err;
    }
    const app = appThrowing(error);
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(status);
    expect((res.json() as { detail: string }).detail).toContain(detail);
    await app.close();
  });
});

describe('insertWithUniqueId', () => {
  it('draws another id when a generated one is taken, and refuses a given id that is taken', async () => {
    const taken = new Set<number>();
    let first = true;
    const id = await insertWithUniqueId('Thing', undefined, (candidate) => {
      // The first draw collides.
      if (first) {
        first = false;
        taken.add(candidate);
        return Promise.resolve('conflict');
      }
      return Promise.resolve(taken.has(candidate) ? 'conflict' : 'written');
    });
    expect(taken.has(id)).toBe(false);
    await expect(insertWithUniqueId('Thing', 7, () => Promise.resolve('conflict'))).rejects.toThrow('Thing with ID 7 already exists');
  });
});
