/**
 * The `Configuration` resource (`--config`), as Dapr defines it (`pkg/apis/configuration/v1alpha1/types.go`),
 * validated with zod. Unknown keys are rejected by name so a typo fails start-up instead of being
 * silently ignored. Control-plane-only sections (`mtls`, `nameResolution`, pipelines) are accepted and
 * kept as data: Weft does not act on them, and says so at start-up (see `configuration.ts`).
 */
import type { z } from 'zod';
import type * as Zod from 'zod';
import { lazyModule } from '../util/lazy-module.js';

/** zod, loaded with the first document validated: a sidecar without a Configuration file never loads it. */
const zod = lazyModule<typeof Zod>('zod');

/** Builds the schemas (once, from {@link schemas}). */
function build() {
  const { z } = zod();
  const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

  const tracingSchema = z
    .object({
      /** A decimal string, "0" disables, "1" samples everything. */
      samplingRate: z.union([z.string(), z.number()]).optional(),
      stdout: booleanish.optional(),
      zipkin: z.object({ endpointAddress: z.string().optional() }).strict().optional(),
      otel: z
        .object({
          endpointAddress: z.string().optional(),
          isSecure: booleanish.optional(),
          protocol: z.enum(['grpc', 'http']).optional(),
          headers: z.union([z.string(), z.array(z.object({ name: z.string(), value: z.string() }).strict())]).optional(),
          timeout: z.union([z.number(), z.string()]).optional(),
        })
        .strict()
        .optional(),
    })
    .strict();

  const metricsSchema = z
    .object({
      enabled: booleanish.optional(),
      recordErrorCodes: booleanish.optional(),
      latencyDistributionBuckets: z.array(z.number().positive('buckets are positive milliseconds')).optional(),
      rules: z
        .array(
          z
            .object({
              name: z.string(),
              labels: z.array(z.object({ name: z.string(), regex: z.record(z.string(), z.string()) }).strict()),
            })
            .strict(),
        )
        .optional(),
      http: z
        .object({
          increasedCardinality: booleanish.optional(),
          pathMatching: z.array(z.string()).optional(),
          excludeVerbs: booleanish.optional(),
        })
        .strict()
        .optional(),
    })
    .strict();

  const aclOperation = z
    .object({ name: z.string(), httpVerb: z.array(z.string()).optional(), action: z.enum(['allow', 'deny']) })
    .strict();

  const accessControlSchema = z
    .object({
      defaultAction: z.enum(['allow', 'deny']).optional(),
      trustDomain: z.string().optional(),
      policies: z
        .array(
          z
            .object({
              appId: z.string().min(1),
              defaultAction: z.enum(['allow', 'deny']).optional(),
              trustDomain: z.string().optional(),
              namespace: z.string().optional(),
              operations: z.array(aclOperation).optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict();

  const secretScope = z
    .object({
      storeName: z.string().min(1),
      defaultAccess: z.enum(['allow', 'deny']).optional(),
      allowedSecrets: z.array(z.string()).nullish(),
      deniedSecrets: z.array(z.string()).nullish(),
    })
    .strict();

  const apiRule = z
    .object({
      name: z.string().min(1),
      version: z.string().min(1),
      /** `http` or `grpc`; Dapr treats a missing protocol as `http`. */
      protocol: z.enum(['http', 'grpc', 'HTTP', 'gRPC', 'GRPC']).optional(),
    })
    .strict();

  const pipelineSchema = z
    .object({ handlers: z.array(z.object({ name: z.string(), type: z.string(), version: z.string().optional() }).strict()).optional() })
    .strict();

  const specSchema = z
    .object({
      tracing: tracingSchema.optional(),
      metrics: metricsSchema.optional(),
      /** Dapr accepts `metric` as an alias of `metrics`. */
      metric: metricsSchema.optional(),
      accessControl: accessControlSchema.optional(),
      secrets: z.object({ scopes: z.array(secretScope).optional() }).strict().optional(),
      api: z.object({ allowed: z.array(apiRule).optional(), denied: z.array(apiRule).optional() }).strict().optional(),
      features: z.array(z.object({ name: z.string().min(1), enabled: booleanish }).strict()).optional(),
      httpPipeline: pipelineSchema.optional(),
      appHttpPipeline: pipelineSchema.optional(),
      nameResolution: z
        .object({ component: z.string().optional(), version: z.string().optional(), configuration: z.unknown().optional() })
        .strict()
        .optional(),
      components: z.object({ deny: z.array(z.string()).optional() }).strict().optional(),
      logging: z
        .object({
          apiLogging: z
            .object({ enabled: booleanish.optional(), obfuscateURLs: booleanish.optional(), omitHealthChecks: booleanish.optional() })
            .strict()
            .optional(),
        })
        .strict()
        .optional(),
      workflow: z
        .object({
          maxConcurrentWorkflowInvocations: z.number().int().optional(),
          maxConcurrentActivityInvocations: z.number().int().optional(),
          stateRetentionPolicy: z.record(z.string(), z.string()).optional(),
        })
        .strict()
        .optional(),
      mtls: z.record(z.string(), z.unknown()).optional(),
    })
    .strict();

  /** The whole `Configuration` document. */
  const configurationSchema = z
    .object({
      apiVersion: z.literal('dapr.io/v1alpha1'),
      kind: z.literal('Configuration'),
      metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
      spec: specSchema.nullish(),
    })
    .strict();
  return { booleanish, tracingSchema, metricsSchema, aclOperation, accessControlSchema, secretScope, apiRule, pipelineSchema, specSchema, configurationSchema };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The schemas, built on first use. */
export function schemas(): Schemas {
  return (built ??= build());
}

/** A parsed `Configuration` document. */
export type ConfigurationResource = z.infer<Schemas['configurationSchema']>;

/** Its `spec`. */
export type ConfigurationSpec = z.infer<Schemas['specSchema']>;

/** One `api.allowed`/`api.denied` rule. */
export type ApiAccessRule = z.infer<Schemas['apiRule']>;

/** One `secrets.scopes` entry. */
export type SecretScope = z.infer<Schemas['secretScope']>;

/** `spec.accessControl` (service invocation ACL; enforced by the invocation block). */
export type AccessControlSpec = z.infer<Schemas['accessControlSchema']>;
