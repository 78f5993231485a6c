/**
 * The errors a handler throws on purpose, and the one Fastify error handler that turns every error
 * into the seed's status codes: 400 validation and duplicates, 404 not found, 503 state store not
 * ready, 500 anything else. Bodies are `{ "detail": "…" }`, as the seed's FastAPI services answer.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import { StateStoreUnavailableError } from './state-repository.js';

/** An error with the HTTP status the client should see. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400: the request breaks a validation or business rule. */
export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = 'BadRequestError';
  }
}

/** 404: the addressed record does not exist. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
    this.name = 'NotFoundError';
  }
}

/** 503: the record is contended or the store busy; the client should retry. */
export class ServiceBusyError extends HttpError {
  constructor(message: string) {
    super(503, message);
    this.name = 'ServiceBusyError';
  }
}

/** One line per zod issue, naming the field: `quantity: Too small: expected number to be >0`. */
export function describeZodError(error: ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/** Installs the error handler on an app. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ZodError) {
      return reply.status(400).send({ detail: describeZodError(error) });
    }
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).send({ detail: error.message });
    }
    if (error instanceof StateStoreUnavailableError) {
      request.log.error({ store: error.storeName, err: error.detail }, 'state store unavailable');
      return reply.status(503).header('retry-after', '5').send({ detail: 'State store is not available, try again later' });
    }
    // Fastify's own client errors: malformed JSON, wrong content type, body too large.
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.status(status === 415 || status === 413 ? status : 400).send({ detail: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ detail: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ detail: `No route for ${request.method} ${request.url}` }));
}
