/**
 * The one error type every Weft API returns. HTTP and gRPC adapters both render it, so an error code
 * and its status cannot drift between transports. Compare errors by `code`, never by message.
 */

/** gRPC status codes used by the catalog (numeric values from `grpc/status.proto`). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A numeric gRPC status code. */
export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode];

/** Dapr's rich error detail (`google.rpc.ErrorInfo`), rendered under `details` on HTTP. */
export interface ErrorInfo {
  reason: string;
  metadata?: Record<string, string>;
}

/** Options for {@link ApiError}. */
export interface ApiErrorOptions {
  /** `google.rpc.ErrorInfo` reason, e.g. `DAPR_STATE_NOT_FOUND`; rendered as a rich error. */
  reason?: string;
  /** Metadata for the ErrorInfo detail. */
  reasonMetadata?: Record<string, string>;
  /** The underlying error, kept for logs only. */
  cause?: unknown;
}

/** An API error with Dapr's `ERR_*` code, its HTTP status and its gRPC status. */
export class ApiError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly grpcCode: GrpcCodeValue;
  readonly info: ErrorInfo | undefined;

  constructor(code: string, httpStatus: number, grpcCode: GrpcCodeValue, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.grpcCode = grpcCode;
    this.info =
      options.reason === undefined
        ? undefined
        : { reason: options.reason, ...(options.reasonMetadata ? { metadata: options.reasonMetadata } : {}) };
  }

  /** The JSON body Dapr sends on HTTP: `{errorCode, message[, details]}`. */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { errorCode: this.code, message: this.message };
    if (this.info) {
      body['details'] = [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          domain: 'dapr.io',
          reason: this.info.reason,
          metadata: this.info.metadata ?? {},
        },
      ];
    }
    return body;
  }
}

/** Narrows an unknown thrown value to an {@link ApiError}. */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
