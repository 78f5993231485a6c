/**
 * `Dapr/InvokeService` on the gRPC API: the caller side of invocation for gRPC clients. The request is
 * sent to the callee's sidecar like an HTTP invocation (verb and query from `http_extension`), and the
 * answer comes back as `InvokeResponse`; a non-2xx answer becomes a gRPC error with the mapped code.
 */
import type * as grpc from '@grpc/grpc-js';
import { ApiError, GrpcCode, commonErrors, invokeErrors } from '../errors/index.js';
import { CircuitBreakerOpenError } from '../resiliency/circuit-breaker.js';
import { TimeoutError } from '../resiliency/policy.js';
import type { InvokeForwarder } from './forwarder.js';
import { grpcCodeFromHttp } from './status-map.js';

/** `common.v1.InvokeRequest` as proto-loader decodes it. */
export interface ProtoInvokeRequest {
  method: string;
  data?: { type_url?: string; value?: Buffer } | null;
  content_type?: string;
  http_extension?: { verb?: string; querystring?: string } | null;
}

/** `runtime.v1.InvokeServiceRequest`. */
export interface ProtoInvokeServiceRequest {
  id: string;
  message?: ProtoInvokeRequest | null;
}

const SKIPPED_METADATA = new Set(['content-type', 'user-agent', 'grpc-accept-encoding', 'grpc-encoding', 'accept-encoding', 'te', 'host', 'dapr-api-token', 'grpc-timeout']);

/** gRPC metadata as HTTP headers (string values only; binary `-bin` keys are skipped). */
export function headersFromMetadata(metadata: grpc.Metadata | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    if (SKIPPED_METADATA.has(key) || key.startsWith(':') || key.endsWith('-bin') || typeof value !== 'string') continue;
    headers[key] = value;
  }
  return headers;
}

/** The gRPC form of an invocation a resiliency policy stopped (timeout, open breaker), as daprd answers it. */
function policyStopped(err: unknown): ApiError | undefined {
  const cause = err instanceof ApiError ? err.cause : undefined;
  if (cause instanceof TimeoutError) return invokeErrors.policyStopped(cause.message, GrpcCode.DEADLINE_EXCEEDED, cause);
  if (cause instanceof CircuitBreakerOpenError) return invokeErrors.policyStopped(cause.message, GrpcCode.UNKNOWN, cause);
  return undefined;
}

/** The `InvokeService` handler. */
export function grpcInvokeHandler(forwarder: InvokeForwarder) {
  return async (req: ProtoInvokeServiceRequest, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<unknown> => {
    if (!req.id) throw commonErrors.badRequest('InvokeService needs an app id');
    const message = req.message ?? { method: '' };
    const verb = message.http_extension?.verb && message.http_extension.verb !== 'NONE' ? message.http_extension.verb : 'POST';
    const query = message.http_extension?.querystring ?? '';
    const headers: Record<string, string> = headersFromMetadata(call.metadata);
    if (message.content_type) headers['content-type'] = message.content_type;
    // `traceparent` is the API call's span (see grpc-spans.ts); the forwarder opens the CLIENT span.
    const body = message.data?.value && message.data.value.length > 0 ? message.data.value : undefined;
    const path = `/${message.method.replace(/^\/+/, '')}${query ? `?${query}` : ''}`;
    const response = await forwarder.request(req.id, { method: verb, path, headers, ...(body ? { body } : {}) }).catch((err: unknown) => {
      throw policyStopped(err) ?? err;
    });
    const data = response.body;
    if (response.status < 200 || response.status >= 300) {
      const detail = data.toString('utf8');
      throw new ApiError(
        'ERR_DIRECT_INVOKE',
        response.status,
        grpcCodeFromHttp(response.status),
        `Received non-successful status code from app: ${response.status}${detail ? `, body: ${detail}` : ''}`,
      );
    }
    const contentType = response.headers['content-type'];
    return {
      data: { type_url: '', value: data },
      content_type: (Array.isArray(contentType) ? contentType[0] : contentType) ?? '',
    };
  };
}

