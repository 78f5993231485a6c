import { ApiError, GrpcCode } from './api-error.js';

/** HTTP statuses of the gRPC codes a rerun is refused with. */
const RERUN_HTTP_STATUS: Partial<Record<number, number>> = {
  [GrpcCode.INVALID_ARGUMENT]: 400,
  [GrpcCode.NOT_FOUND]: 404,
  [GrpcCode.ALREADY_EXISTS]: 409,
};

/** Workflow API errors (dapr `pkg/messages/predefined.go`, workflow section). */
export const workflowErrors = {
  nameMissing: () => new ApiError('ERR_WORKFLOW_NAME_MISSING', 400, GrpcCode.INVALID_ARGUMENT, 'workflow name is not configured'),
  instanceIdTooLong: (max: number) =>
    new ApiError('ERR_INSTANCE_ID_TOO_LONG', 400, GrpcCode.INVALID_ARGUMENT, `workflow instance ID exceeds the max length of ${max} characters`),
  instanceIdInvalid: (id: string) =>
    new ApiError(
      'ERR_INSTANCE_ID_INVALID',
      400,
      GrpcCode.INVALID_ARGUMENT,
      `workflow instance ID '${id}' is invalid: only alphanumeric and underscore characters are allowed`,
    ),
  instanceIdMissing: () => new ApiError('ERR_INSTANCE_ID_PROVIDED_MISSING', 400, GrpcCode.INVALID_ARGUMENT, 'no instance ID was provided'),
  componentMissing: () => new ApiError('ERR_WORKFLOW_COMPONENT_MISSING', 400, GrpcCode.INVALID_ARGUMENT, 'no workflow component was provided'),
  componentNotFound: (name: string) =>
    new ApiError('ERR_WORKFLOW_COMPONENT_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, `unable to find workflow component with the provided name: ${name}`),
  eventNameMissing: () => new ApiError('ERR_WORKFLOW_EVENT_NAME_MISSING', 400, GrpcCode.INVALID_ARGUMENT, 'missing workflow event name'),
  instanceNotFound: (id: string) =>
    new ApiError('ERR_INSTANCE_ID_NOT_FOUND', 404, GrpcCode.NOT_FOUND, `unable to find workflow with the provided instance ID: ${id}`),
  start: (id: string, detail: string, grpcCode: (typeof GrpcCode)[keyof typeof GrpcCode] = GrpcCode.INTERNAL) =>
    new ApiError('ERR_START_WORKFLOW', 500, grpcCode, `error starting workflow '${id}': ${detail}`),
  get: (id: string, detail: string) => new ApiError('ERR_GET_WORKFLOW', 500, GrpcCode.INTERNAL, `error while getting workflow info on instance '${id}': ${detail}`),
  terminate: (id: string, detail: string) => new ApiError('ERR_TERMINATE_WORKFLOW', 500, GrpcCode.INTERNAL, `error terminating workflow '${id}': ${detail}`),
  raiseEvent: (id: string, detail: string, grpcCode: (typeof GrpcCode)[keyof typeof GrpcCode] = GrpcCode.INTERNAL) =>
    new ApiError('ERR_RAISE_EVENT_WORKFLOW', 500, grpcCode, `error raising event on workflow '${id}': ${detail}`),
  pause: (id: string, detail: string) => new ApiError('ERR_PAUSE_WORKFLOW', 500, GrpcCode.INTERNAL, `error pausing workflow ${id}: ${detail}`),
  resume: (id: string, detail: string) => new ApiError('ERR_RESUME_WORKFLOW', 500, GrpcCode.INTERNAL, `error resuming workflow ${id}: ${detail}`),
  purge: (id: string, detail: string, grpcCode: (typeof GrpcCode)[keyof typeof GrpcCode] = GrpcCode.INTERNAL) =>
    new ApiError('ERR_PURGE_WORKFLOW', 500, grpcCode, `error purging workflow ${id}: ${detail}`),
  /**
   * A refused `RerunWorkflowFromEvent`. daprd answers it on gRPC only, with these bare status errors
   * (message and code as its workflow actor returns them); the code and HTTP status serve Weft's
   * admin route, which reruns over HTTP.
   */
  rerun: (message: string, grpcCode: (typeof GrpcCode)[keyof typeof GrpcCode]) =>
    new ApiError('ERR_RERUN_WORKFLOW', RERUN_HTTP_STATUS[grpcCode] ?? 500, grpcCode, message),
};
