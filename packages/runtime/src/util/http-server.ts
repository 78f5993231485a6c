/**
 * Listening and closing for the sidecar's HTTP servers (API, internal sidecar-to-sidecar, metrics),
 * so each behaves the same on a port clash and on shutdown.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening; resolves with the bound port, rejects if the port cannot be bound. */
export function listenHttp(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections, closes idle keep-alive connections at once and, after `graceMs`,
 * the ones still busy (0 closes every connection at once).
 */
export function closeHttp(server: http.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (graceMs === 0) {
      server.closeAllConnections();
      return;
    }
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}
