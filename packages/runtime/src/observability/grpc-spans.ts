/**
 * Trace context on gRPC: what daprd accepts (`grpc-trace-bin`, the OpenCensus binary context, or
 * else W3C `traceparent`/`tracestate` metadata, which the .NET and JS SDKs send) and what it sends
 * (both, on calls to apps and other sidecars; `grpc-trace-bin` on API responses other than
 * `InvokeService`).
 */
import * as grpc from '@grpc/grpc-js';
import { grpcApiSpan } from './api-spans.js';
import { formatTraceparent, fromGrpcTraceBin, parseTraceparent, toGrpcTraceBin } from './trace-context.js';
import type { SpanContext } from './trace-context.js';
import type { Span, Tracer } from './tracing.js';

const INVOKE_SERVICE = '/dapr.proto.runtime.v1.Dapr/InvokeService';

/** The caller's span context from gRPC metadata: `grpc-trace-bin` first, then `traceparent`. */
export function spanContextFromMetadata(metadata: grpc.Metadata): SpanContext | undefined {
  const [bin] = metadata.get('grpc-trace-bin');
  if (Buffer.isBuffer(bin)) {
    const context = fromGrpcTraceBin(bin);
    if (context) return context;
  }
  const [traceparent] = metadata.get('traceparent');
  const [tracestate] = metadata.get('tracestate');
  return parseTraceparent(typeof traceparent === 'string' ? traceparent : undefined, typeof tracestate === 'string' ? tracestate : undefined);
}

/** Puts a span context on outgoing metadata the way daprd does: `traceparent`, `tracestate` and `grpc-trace-bin`. */
export function setTraceMetadata(metadata: grpc.Metadata, context: SpanContext): void {
  metadata.set('traceparent', formatTraceparent(context));
  if (context.traceState) metadata.set('tracestate', context.traceState);
  metadata.set('grpc-trace-bin', toGrpcTraceBin(context));
}

/** A traced unary API call: ended with the request and the outcome. */
export interface TracedGrpcCall {
  span: Span;
  end(request: unknown, error: { details?: string; message?: string } | null | undefined): void;
}

/**
 * Starts the SERVER span of a gRPC API call and makes it the call's trace context: handlers read
 * `traceparent` from the call's metadata (as HTTP handlers read the header) and send it onwards.
 */
export function traceGrpcCall(tracer: Pick<Tracer, 'startSpan'>, fullMethod: string, call: { metadata: grpc.Metadata; sendMetadata(md: grpc.Metadata): void }): TracedGrpcCall {
  const span = tracer.startSpan(fullMethod, { kind: 'SERVER', parent: spanContextFromMetadata(call.metadata) });
  const incoming = call.metadata.getMap();
  call.metadata.set('traceparent', span.traceparent);
  if (span.tracestate) call.metadata.set('tracestate', span.tracestate);
  call.metadata.remove('grpc-trace-bin');
  return {
    span,
    end(request, error) {
      if (fullMethod !== INVOKE_SERVICE) {
        const md = new grpc.Metadata();
        md.set('grpc-trace-bin', toGrpcTraceBin(span.context));
        try {
          call.sendMetadata(md);
        } catch {
          // Headers already went out (a handler sent them): the trace context stays in the trailers-free reply.
        }
      }
      const details = grpcApiSpan(fullMethod, request, incoming);
      const message = error ? error.details || error.message : undefined;
      span.end({ ...details, error: Boolean(error), ...(message ? { message } : {}) });
    },
  };
}

/** Raw HTTP/2 headers (as the gRPC proxy sees them): `-bin` values are base64 text. */
type RawHeaders = Record<string, string | string[] | number | undefined>;

function rawFirst(headers: RawHeaders, name: string): string | undefined {
  const v = headers[name];
  const value = Array.isArray(v) ? v[0] : v;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The caller's span context from raw HTTP/2 headers: `grpc-trace-bin`, then `traceparent`. */
export function spanContextFromRawHeaders(headers: RawHeaders): SpanContext | undefined {
  const bin = rawFirst(headers, 'grpc-trace-bin');
  const fromBin = bin ? fromGrpcTraceBin(Buffer.from(bin, 'base64')) : undefined;
  return fromBin ?? parseTraceparent(rawFirst(headers, 'traceparent'), rawFirst(headers, 'tracestate'));
}

/**
 * One hop of a proxied gRPC call (`dapr-app-id` metadata): a SERVER span for the incoming stream and
 * a CLIENT span for the outgoing one, both named by the full method as daprd names proxied spans.
 * `outgoing` gets the CLIENT span's context (`traceparent`, `tracestate`, `grpc-trace-bin`); both end
 * when the incoming stream closes, failed unless it closed with `grpc-status: 0`.
 */
export function traceProxyHop(
  tracer: Pick<Tracer, 'startSpan'>,
  fullMethod: string,
  incoming: RawHeaders,
  outgoing: RawHeaders,
  stream: { once(event: 'close', listener: () => void): unknown; sentHeaders?: RawHeaders; sentTrailers?: RawHeaders },
  peer: string,
): void {
  const server = tracer.startSpan(fullMethod, { kind: 'SERVER', parent: spanContextFromRawHeaders(incoming) });
  const client = tracer.startSpan(fullMethod, { kind: 'CLIENT', parent: server.context, attributes: { 'net.peer.name': peer, 'rpc.system': 'grpc' } });
  outgoing['traceparent'] = client.traceparent;
  if (client.tracestate) outgoing['tracestate'] = client.tracestate;
  else delete outgoing['tracestate'];
  outgoing['grpc-trace-bin'] = toGrpcTraceBin(client.context).toString('base64');
  stream.once('close', () => {
    const status = Number(rawFirst(stream.sentTrailers ?? {}, 'grpc-status') ?? rawFirst(stream.sentHeaders ?? {}, 'grpc-status') ?? grpc.status.CANCELLED);
    const message = status === 0 ? undefined : decodeURIComponent(rawFirst(stream.sentTrailers ?? {}, 'grpc-message') ?? rawFirst(stream.sentHeaders ?? {}, 'grpc-message') ?? grpc.status[status] ?? 'failed');
    const end = { attributes: { 'rpc.grpc.status_code': status }, error: status !== 0, ...(message ? { message } : {}) };
    client.end(end);
    server.end(end);
  });
}
