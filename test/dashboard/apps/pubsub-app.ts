/**
 * The dashboard tests' pub/sub app: subscribes to `orders` (dead-letter topic `orders-dead`) on the
 * embedded `pubsub`. An order marked `{"bad": true}` is answered DROP the first time it is seen, so it
 * is dead-lettered; the same event delivered again (a replay) succeeds and is recorded in state.
 */
import http from 'node:http';

const port = Number(process.env['APP_PORT'] ?? '3000');
const daprHttp = `http://127.0.0.1:${process.env['DAPR_HTTP_PORT'] ?? '3500'}`;
const seen = new Set<string>();

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

const server = http.createServer((req, res) => {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/dapr/subscribe') {
    return reply(200, [{ pubsubname: 'pubsub', topic: 'orders', route: '/orders', deadLetterTopic: 'orders-dead' }]);
  }
  // Invoked by the tests through the other app's sidecar, so the system graph has an invocation edge.
  if (req.url === '/health') return reply(200, { ok: true });
  if (req.method === 'POST' && req.url === '/orders') {
    void readJson(req).then(async (event) => {
      const id = String(event['id']);
      const data = event['data'] as { orderId?: string; bad?: boolean } | undefined;
      if (data?.bad && !seen.has(id)) {
        seen.add(id);
        return reply(200, { status: 'DROP' });
      }
      await fetch(`${daprHttp}/v1.0/state/statestore`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ key: `shipment-${data?.orderId ?? id}`, value: { orderId: data?.orderId, shipped: true } }]),
      });
      reply(200, { status: 'SUCCESS' });
    });
    return;
  }
  reply(404, { error: 'not found' });
});
server.listen(port, '127.0.0.1', () => console.log(`pubsub app listening on ${port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('SIGINT', () => server.close(() => process.exit(0)));
