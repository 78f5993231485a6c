import { ApiError, GrpcCode } from './api-error.js';
import type { GrpcCodeValue } from './api-error.js';

/** HTTP status Dapr derives from the scheduler's gRPC code for `DAPR_SCHEDULER_SCHEDULE_JOB`. */
function httpStatusOf(code: GrpcCodeValue): number {
  switch (code) {
    case GrpcCode.INVALID_ARGUMENT:
      return 400;
    case GrpcCode.ALREADY_EXISTS:
      return 409;
    default:
      return 500;
  }
}

const scheduler = (reason: string, httpStatus: number, grpcCode: GrpcCodeValue, message: string, metadata: Record<string, string>) =>
  // The Jobs API's errors carry the ErrorInfo reason as their errorCode (dapr `pkg/api/errors/scheduler.go`).
  new ApiError(reason, httpStatus, grpcCode, message, { reason, reasonMetadata: metadata });

/** Jobs API errors; `metadata` is `{appID, namespace}` as Dapr attaches it. */
export const jobErrors = {
  jobEmpty: (m: Record<string, string>) => scheduler('DAPR_SCHEDULER_EMPTY', 400, GrpcCode.INVALID_ARGUMENT, 'Job is empty', m),
  nameEmpty: (m: Record<string, string>) => scheduler('DAPR_SCHEDULER_JOB_NAME_EMPTY', 400, GrpcCode.INVALID_ARGUMENT, 'Name is empty', m),
  scheduleEmpty: (m: Record<string, string>) =>
    scheduler('DAPR_SCHEDULER_SCHEDULE_EMPTY', 400, GrpcCode.INVALID_ARGUMENT, 'Schedule is empty', m),
  nameInBody: (m: Record<string, string>) =>
    scheduler('DAPR_SCHEDULER_JOB_NAME', 400, GrpcCode.INVALID_ARGUMENT, 'Set the job name in the url only', m),
  schedule: (m: Record<string, string>, code: GrpcCodeValue, detail: string) =>
    scheduler('DAPR_SCHEDULER_SCHEDULE_JOB', httpStatusOf(code), code, `failed to schedule job due to: ${detail}`, m),
  get: (m: Record<string, string>, detail: string) =>
    scheduler('DAPR_SCHEDULER_GET_JOB', 500, GrpcCode.INTERNAL, `failed to get job due to: ${detail}`, m),
  delete: (m: Record<string, string>, detail: string) =>
    scheduler('DAPR_SCHEDULER_DELETE_JOB', 500, GrpcCode.INTERNAL, `failed to delete job due to: ${detail}`, m),
};
