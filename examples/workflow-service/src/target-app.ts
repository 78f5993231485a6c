/**
 * A small app for the HTTP-call tasks of the examples to talk to (app id `task-target`), reached
 * through service invocation. Every method is idempotent, because workflow activities may run twice.
 *
 *   POST /echo            answers the JSON body it got
 *   POST /greet           {"name": "Ann"} → {"greeting": "Hello, Ann"}
 *   POST /sleep?ms=1500   waits, then answers {"slept_ms": 1500, "started_at", "finished_at"}
 *   GET  /status/{code}   answers with that HTTP status (e.g. 500, to see a task fail)
 */
import http from 'node:http';

const port = Number(process.env['APP_PORT'] ?? process.env['PORT'] ?? 8001);

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? null : (JSON.parse(text) as unknown);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://target');
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) return send(res, Number(status[1]), { status: Number(status[1]) });
    if (req.method === 'POST' && url.pathname === '/echo') return send(res, 200, await readJson(req));
    if (req.method === 'POST' && url.pathname === '/greet') {
      const body = (await readJson(req)) as { name?: unknown } | null;
      if (typeof body?.name !== 'string') return send(res, 400, { error: 'body must be {"name": string}' });
      return send(res, 200, { greeting: `Hello, ${body.name}` });
    }
    if (req.method === 'POST' && url.pathname === '/sleep') {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? 1000), 60_000);
      const startedAt = new Date().toISOString();
      await new Promise((r) => setTimeout(r, ms));
      return send(res, 200, { slept_ms: ms, started_at: startedAt, finished_at: new Date().toISOString() });
    }
    return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  })().catch((err: unknown) => send(res, 400, { error: (err as Error).message }));
});

server.listen(port, '127.0.0.1', () => console.log(`task-target listening on 127.0.0.1:${port}`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)));
