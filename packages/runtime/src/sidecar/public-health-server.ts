/**
 * daprd's public port (`--dapr-public-port`, 3501 in Kubernetes mode): only `GET /v1.0/healthz` and
 * `/v1.0/healthz/outbound`, on every interface, so the kubelet can probe the sidecar while the APIs
 * stay on loopback. Answers as the API port's health routes do (204, or 500 with Dapr's error code).
 */
import http from 'node:http';
import { commonErrors } from '../errors/index.js';
import type { ApiError } from '../errors/index.js';
import { closeHttp, listenHttp } from '../util/http-server.js';
import type { HealthState } from './health.js';

/** A running public health endpoint. */
export class PublicHealthServer {
  private readonly server: http.Server;

  constructor(health: HealthState) {
    this.server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      let failure: ApiError | undefined;
      if (path === '/v1.0/healthz') failure = health.ready() ? undefined : commonErrors.healthNotReady();
      else if (path === '/v1.0/healthz/outbound') failure = health.outboundReady() ? undefined : commonErrors.outboundHealthNotReady();
      else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only /v1.0/healthz and /v1.0/healthz/outbound are served on the public port');
        return;
      }
      if (!failure) {
        res.writeHead(204).end();
        return;
      }
      const body = JSON.stringify(failure.toJSON());
      res.writeHead(failure.httpStatus, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
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
