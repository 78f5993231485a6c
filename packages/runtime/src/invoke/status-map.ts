/**
 * HTTP ↔ gRPC status mapping for invocation across protocols, as Dapr maps them
 * (`pkg/messaging/v1/util.go`: `CodeFromHTTPStatus`, `HTTPStatusFromCode`).
 */
import { GrpcCode } from '../errors/index.js';
import type { GrpcCodeValue } from '../errors/index.js';

/** gRPC code for an HTTP status (an HTTP app answering a gRPC caller). */
export function grpcCodeFromHttp(status: number): GrpcCodeValue {
  if (status >= 200 && status < 300) return GrpcCode.OK;
  switch (status) {
    case 400:
      return GrpcCode.INVALID_ARGUMENT;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.NOT_FOUND;
    case 409:
      return GrpcCode.ABORTED;
    case 412:
      return GrpcCode.FAILED_PRECONDITION;
    case 416:
      return GrpcCode.OUT_OF_RANGE;
    case 429:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 499:
      return GrpcCode.CANCELLED;
    case 501:
      return GrpcCode.UNIMPLEMENTED;
    case 503:
      return GrpcCode.UNAVAILABLE;
    case 504:
      return GrpcCode.DEADLINE_EXCEEDED;
    default:
      return status >= 500 ? GrpcCode.INTERNAL : GrpcCode.UNKNOWN;
  }
}

/** HTTP status for a gRPC code (a gRPC app answering an HTTP caller). */
export function httpStatusFromGrpc(code: number): number {
  const table: Record<number, number> = {
    [GrpcCode.OK]: 200,
    [GrpcCode.CANCELLED]: 499,
    [GrpcCode.UNKNOWN]: 500,
    [GrpcCode.INVALID_ARGUMENT]: 400,
    [GrpcCode.DEADLINE_EXCEEDED]: 504,
    [GrpcCode.NOT_FOUND]: 404,
    [GrpcCode.ALREADY_EXISTS]: 409,
    [GrpcCode.PERMISSION_DENIED]: 403,
    [GrpcCode.RESOURCE_EXHAUSTED]: 429,
    [GrpcCode.FAILED_PRECONDITION]: 400,
    [GrpcCode.ABORTED]: 409,
    [GrpcCode.OUT_OF_RANGE]: 400,
    [GrpcCode.UNIMPLEMENTED]: 501,
    [GrpcCode.INTERNAL]: 500,
    [GrpcCode.UNAVAILABLE]: 503,
    [GrpcCode.DATA_LOSS]: 500,
    [GrpcCode.UNAUTHENTICATED]: 401,
  };
  return table[code] ?? 500;
}
