/**
 * Optional ids, as the seed's create requests take them: a given id must be new; a missing one is
 * drawn at random and drawn again on the (rare) collision. Uniqueness is decided by the store itself
 * with an insert-only write, so two concurrent creates cannot both take one id.
 */
import { randomInt } from 'node:crypto';
import { BadRequestError, ServiceBusyError } from './errors.js';
import type { WriteOutcome } from './state-repository.js';

/** Largest generated id: fits a 32-bit signed integer column if the data ever moves to SQL. */
export const MAX_GENERATED_ID = 2_147_483_647;

/** Attempts at a random id before giving up (a collision needs billions of records to matter). */
const GENERATED_ID_ATTEMPTS = 5;

/**
 * Inserts a record under `requestedId`, or under a fresh random id when none is given; returns the id
 * used. `insert` must be insert-only (it reports `conflict` when the id is taken).
 */
export async function insertWithUniqueId(
  entity: string,
  requestedId: number | undefined,
  insert: (id: number) => Promise<WriteOutcome>,
): Promise<number> {
  if (requestedId !== undefined) {
    if ((await insert(requestedId)) === 'conflict') throw new BadRequestError(`${entity} with ID ${requestedId} already exists`);
    return requestedId;
  }
  for (let attempt = 0; attempt < GENERATED_ID_ATTEMPTS; attempt++) {
    const id = randomInt(1, MAX_GENERATED_ID);
    if ((await insert(id)) === 'written') return id;
  }
  throw new ServiceBusyError(`could not find a free ${entity} id, try again`);
}
