/** The Fastify server: zod validation, OpenAPI document and Swagger UI at `/docs`, error mapping. */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError, PreconditionError } from '../errors.js';
import { registerRoutes } from './routes.js';
import type { RouteDeps } from './routes.js';

/** Builds the HTTP app (not listening yet). */
export async function buildHttpServer(deps: RouteDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Workflow Execution Service',
        description: 'CRUD for workflow definitions and their tasks, and the history of their executions. Executions are started and streamed over gRPC (proto/workflow.proto).',
        version: '1.0.0',
      },
      tags: [{ name: 'workflows' }, { name: 'tasks' }, { name: 'executions' }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // Swagger UI's assets are served from the installed package: nothing is fetched from a CDN.
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const detail = err.validation.map((v) => ({
        loc: [where, ...v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))],
        msg: v.message,
        type: v.keyword,
      }));
      return reply.code(422).send({ detail });
    }
    if (err instanceof NotFoundError) return reply.code(404).send({ detail: err.message });
    if (err instanceof ConflictError) return reply.code(409).send({ detail: err.message });
    if (err instanceof PreconditionError) return reply.code(422).send({ detail: [{ loc: ['body'], msg: err.message, type: 'precondition' }] });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (bad JSON, wrong content type, body too large).
      const code = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 413 ? err.statusCode : 422;
      return reply.code(code).send(code === 422 ? { detail: [{ loc: ['body'], msg: err.message, type: 'json_invalid' }] } : { detail: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ detail: 'internal server error' });
  });

  registerRoutes(app, deps);
  return app;
}
