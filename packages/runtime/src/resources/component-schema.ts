/**
 * The `Component` resource as Dapr defines it (`pkg/apis/components/v1alpha1/types.go`), validated with
 * zod so a bad file names the field and what was expected.
 */
import type { z } from 'zod';
import type * as Zod from 'zod';
import { lazyModule } from '../util/lazy-module.js';

/** zod, loaded with the first document validated: a sidecar without resource files never loads it. */
const zod = lazyModule<typeof Zod>('zod');

/** Builds the schemas (once, from {@link schemas}). */
function build() {
  const { z } = zod();
  const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

  /** Any YAML scalar or structure, turned into the string Dapr's decoder would see. */
  const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);

  const metadataItem = z
    .object({
      name: z.string().min(1, 'a metadata item needs a name'),
      value: metadataValue.optional(),
      secretKeyRef: z.object({ name: z.string().min(1), key: z.string().optional() }).strict().optional(),
      envRef: z.string().min(1).optional(),
    })
    .strict();


  const componentSchema = z
    .object({
      apiVersion: z.literal('dapr.io/v1alpha1'),
      kind: z.literal('Component'),
      metadata: z
        .object({
          name: z.string().regex(NAME, 'must be a valid name: letters, digits, ".", "-", "_"'),
          namespace: z.string().optional(),
        })
        .passthrough(),
      spec: z
        .object({
          type: z.string().regex(/^[a-z0-9]+\.[A-Za-z0-9.\-_]+$/, 'must be "<kind>.<driver>", e.g. state.redis'),
          version: z.string().min(1, 'is required, e.g. v1'),
          ignoreErrors: z.boolean().optional(),
          initTimeout: z.string().optional(),
          metadata: z.array(metadataItem).nullish(),
        })
        .strict(),
      auth: z.object({ secretStore: z.string().min(1) }).strict().optional(),
      scopes: z.array(z.string()).nullish(),
    })
    .strict();
  return { NAME, metadataValue, metadataItem, componentSchema };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The schemas, built on first use. */
export function schemas(): Schemas {
  return (built ??= build());
}

/** A metadata item as written in YAML. */
export type ComponentMetadataItem = z.infer<Schemas['metadataItem']>;

/** A parsed `Component` document. */
export type ComponentResource = z.infer<Schemas['componentSchema']>;
