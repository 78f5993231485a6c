// The soak's callee app: answers service invocation on POST /echo, subscribes to `orders` on the
// `pubsub` component, and counts what it was delivered (GET /stats) so the soak can check that every
// published event arrived. Listens on APP_PORT.
import http from 'node:http';

const port = Number(process.env.APP_PORT);
const seen = new Set();
let deliveries = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/dapr/subscribe') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }]));
    } else if (req.url === '/orders') {
      deliveries++;
      // The CloudEvent's `data` is the published JSON object, which carries a unique id.
      seen.add(JSON.parse(body.toString()).data.id);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"SUCCESS"}');
    } else if (req.url === '/echo') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      res.end(body);
    } else if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ deliveries, unique: seen.size }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
