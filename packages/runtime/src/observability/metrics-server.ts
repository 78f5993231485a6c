/**
 * The Prometheus endpoint (`--metrics-port`). Like daprd it answers on any path (`/` and `/metrics`
 * both work). It binds to 127.0.0.1 unless told otherwise: metrics reveal component names and traffic.
 */
import http from 'node:http';
import type { WeftMetrics } from './metrics.js';
import { closeHttp, listenHttp } from '../util/http-server.js';

/** A running metrics endpoint. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(private readonly metrics: WeftMetrics) {
    this.server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      this.metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': Buffer.byteLength(text) });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`failed to render metrics: ${(err as Error).message}`);
        },
      );
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return listenHttp(this.server, port, host);
  }

  /** Stops serving. */
  close(): Promise<void> {
    return closeHttp(this.server, 0);
  }
}
