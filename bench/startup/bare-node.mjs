// The baseline of the start-up benchmark: a bare Node process that opens the same listening ports
// as `weft sidecar` with no app (HTTP API, gRPC API over h2c, internal invocation port, metrics) and
// answers 204 on every HTTP request, so "ready" is measured the same way for both.
import http from 'node:http';
import http2 from 'node:http2';

const [httpPort, grpcPort, internalPort, metricsPort] = process.argv.slice(2).map(Number);
const noContent = (_req, res) => {
  res.statusCode = 204;
  res.end();
};
const listen = (server, port) => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
await Promise.all([
  listen(http2.createServer(noContent), grpcPort),
  listen(http.createServer(noContent), internalPort),
  listen(http.createServer(noContent), metricsPort),
]);
// The HTTP API port last, as the sidecar does: it answering means everything is up.
await listen(http.createServer(noContent), httpPort);
