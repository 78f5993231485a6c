/** A Zipkin collector for tracing tests: an HTTP server that keeps every span posted to it. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as Zipkin v2 JSON carries it. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  tags?: Record<string, string>;
  localEndpoint: { serviceName: string };
}

/** A running collector. */
export interface ZipkinCollector {
  /** The endpoint to configure, `http://127.0.0.1:<port>/api/v2/spans`. */
  endpoint: string;
  /** Every span received so far. */
  spans: ZipkinSpan[];
  close(): Promise<void>;
}

/** Starts a collector on a free port. */
export async function startZipkinCollector(): Promise<ZipkinCollector> {
  const spans: ZipkinSpan[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      spans.push(...(JSON.parse(raw) as ZipkinSpan[]));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/spans`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
