/** zod pieces every service shares. */
import { z } from 'zod';
import { BadRequestError, describeZodError } from './errors.js';

/** A positive integer id in a URL path (`/customers/{customer_id}`), decoded from its string form. */
export const pathId = z.coerce.number().int().positive();

/** A positive integer id in a JSON body. */
export const bodyId = z.number().int().positive();

/** Parses `value` with `schema`, or throws a 400 naming the `what` and the fields at fault. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequestError(`Invalid ${what}: ${describeZodError(result.error)}`);
  return result.data;
}

/** The id in `params[name]`, or a 400. */
export function idParam(params: unknown, name: string): number {
  const raw = (params as Record<string, unknown>)[name];
  const result = pathId.safeParse(raw);
  if (!result.success) throw new BadRequestError(`Invalid ${name}: must be a positive integer, got "${String(raw)}"`);
  return result.data;
}
