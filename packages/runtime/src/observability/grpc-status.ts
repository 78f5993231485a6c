/**
 * gRPC status codes as daprd's metrics label them: Go's `codes.Code.String()` (`OK`, `Canceled`,
 * `InvalidArgument`, `NotFound` …), not the upper-case names of the gRPC spec.
 */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

/** The `grpc_server_status` / `grpc_client_status` label of a numeric status code. */
export function grpcStatusLabel(code: number): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}
