/**
 * A hook in front of grpc-js routing: grpc-js answers UNIMPLEMENTED for any method it has no handler
 * for and offers no fallback, but service invocation must proxy calls to arbitrary methods (those
 * carrying `dapr-app-id`). This wraps the server's per-stream entry points (grpc-js 1.14 private
 * `_streamHandler`/`_channelzHandler`, bound when a port is bound) so a handler sees each raw HTTP/2
 * stream first. The check at install time fails loudly if a grpc-js upgrade renames them.
 */
import type http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** Takes a raw stream before grpc-js does; returns true when it handled the stream. */
export type RawStreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

type StreamEntry = (this: unknown, extra: unknown, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

/** Installs `handler` on a server that has not bound a port yet. */
export function interceptRawStreams(server: grpc.Server, handler: RawStreamHandler): void {
  const target = server as unknown as Record<string, StreamEntry | undefined>;
  for (const name of ['_streamHandler', '_channelzHandler']) {
    const original = target[name];
    if (typeof original !== 'function') throw new Error(`grpc-js has no ${name}; the gRPC proxy hook needs updating`);
    target[name] = function (this: unknown, extra, stream, headers) {
      if (handler(stream, headers)) return;
      original.call(this, extra, stream, headers);
    };
  }
}
