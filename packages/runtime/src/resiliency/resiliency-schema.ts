/**
 * The `Resiliency` resource (`pkg/apis/resiliency/v1alpha1/types.go`), validated with zod; unknown
 * keys are rejected by name. Durations are Go durations or plain milliseconds, as Dapr parses them.
 */
import type { z } from 'zod';
import type * as Zod from 'zod';
import { lazyModule } from '../util/lazy-module.js';

/** zod, loaded with the first document validated: a sidecar without Resiliency documents never loads it. */
const zod = lazyModule<typeof Zod>('zod');

/** Builds the schemas (once, from {@link schemas}). */
function build() {
  const { z } = zod();
  const duration = z.union([z.string().min(1), z.number().int().nonnegative()]);
  const intish = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number)]);

  const retrySchema = z
    .object({
      policy: z.enum(['constant', 'exponential']).optional(),
      duration: duration.optional(),
      initialInterval: duration.optional(),
      maxInterval: duration.optional(),
      maxElapsedTime: duration.optional(),
      maxRetries: intish.optional(),
      multiplier: z.number().positive().optional(),
      randomizationFactor: z.number().min(0).max(1).optional(),
      matching: z
        .object({ httpStatusCodes: z.string().optional(), gRPCStatusCodes: z.string().optional() })
        .strict()
        .optional(),
    })
    .strict();

  const circuitBreakerSchema = z
    .object({
      maxRequests: intish.optional(),
      interval: duration.optional(),
      timeout: duration.optional(),
      trip: z.string().min(1).optional(),
    })
    .strict();

  const policyNames = z
    .object({ timeout: z.string().optional(), retry: z.string().optional(), circuitBreaker: z.string().optional() })
    .strict();

  const appTarget = policyNames.extend({ circuitBreakerCacheSize: z.number().int().positive().optional() }).strict();
  const actorTarget = policyNames
    .extend({ circuitBreakerScope: z.enum(['id', 'type', 'both']).optional(), circuitBreakerCacheSize: z.number().int().positive().optional() })
    .strict();

  /** A whole `Resiliency` document. */
  const resiliencySchema = z
    .object({
      apiVersion: z.literal('dapr.io/v1alpha1'),
      kind: z.literal('Resiliency'),
      metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
      scopes: z.array(z.string()).nullish(),
      spec: z
        .object({
          policies: z
            .object({
              timeouts: z.record(z.string(), duration).nullish(),
              retries: z.record(z.string(), retrySchema).nullish(),
              circuitBreakers: z.record(z.string(), circuitBreakerSchema).nullish(),
            })
            .strict()
            .optional(),
          targets: z
            .object({
              apps: z.record(z.string(), appTarget).nullish(),
              actors: z.record(z.string(), actorTarget).nullish(),
              components: z
                .record(z.string(), z.object({ inbound: policyNames.optional(), outbound: policyNames.optional() }).strict())
                .nullish(),
            })
            .strict()
            .optional(),
        })
        .strict(),
    })
    .strict();
  return { duration, intish, retrySchema, circuitBreakerSchema, policyNames, appTarget, actorTarget, resiliencySchema };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The schemas, built on first use. */
export function schemas(): Schemas {
  return (built ??= build());
}

/** A parsed `Resiliency` document. */
export type ResiliencyResource = z.infer<Schemas['resiliencySchema']>;

/** A retry policy as written. */
export type RetrySpec = z.infer<Schemas['retrySchema']>;

/** A circuit breaker as written. */
export type CircuitBreakerSpec = z.infer<Schemas['circuitBreakerSchema']>;

/** The policy names of one target. */
export type PolicyNames = z.infer<Schemas['policyNames']>;
