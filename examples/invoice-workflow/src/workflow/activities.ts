/**
 * The workflow's activities: each one calls one service through the sidecar (service invocation), as
 * in the seed. They hold no logic of their own, so the services can be rewritten in any language.
 */
import type { WorkflowActivityContext } from '@dapr/dapr';
import type { Config } from '../shared/config.js';
import { invokeService } from '../shared/invoke.js';
import { Invoice, PageExtraction, SplitResult, UploadResult } from '../shared/models.js';
import type { AggregateRequest, ExtractRequest, SplitRequest, UploadRequest } from '../shared/models.js';

/** App ids of the services (the seed's docker-compose service names). */
export const SERVICES = {
  upload: 'upload-service',
  split: 'split-service',
  extract: 'extract-service',
  aggregate: 'aggregate-service',
} as const;

/** The activities, bound to the sidecar's port. */
export function createActivities(config: Pick<Config, 'DAPR_HTTP_PORT'>) {
  const options = { daprHttpPort: config.DAPR_HTTP_PORT };
  return {
    upload_activity: async (_: WorkflowActivityContext, input: UploadRequest): Promise<UploadResult> =>
      invokeService(SERVICES.upload, 'upload', input, UploadResult, options),
    split_activity: async (_: WorkflowActivityContext, input: SplitRequest): Promise<SplitResult> =>
      invokeService(SERVICES.split, 'split', input, SplitResult, options),
    extract_activity: async (_: WorkflowActivityContext, input: ExtractRequest): Promise<PageExtraction> =>
      invokeService(SERVICES.extract, 'extract', input, PageExtraction, options),
    aggregate_activity: async (_: WorkflowActivityContext, input: AggregateRequest): Promise<Invoice> =>
      invokeService(SERVICES.aggregate, 'aggregate', input, Invoice, options),
  };
}

/** Activity names, as registered and as they appear in the history. */
export type ActivityName = keyof ReturnType<typeof createActivities>;
