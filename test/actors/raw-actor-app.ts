/**
 * A hand-written HTTP actor app (no SDK), so tests see exactly what the sidecar sends: it serves
 * `GET /dapr/config` from the given config, records every call, and hosts methods:
 * `nest` (calls itself through the sidecar with the `Dapr-Reentrancy-Id` it got, `depth` times),
 * `fail` (500 `boom`), `echo` (the body back), `hold` (answers once the test calls `release(id)`), and timer/reminder callbacks (200, or a reminder-cancel
 * answer for names starting with `cancel`).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';

/** One call the app received. */
export interface AppCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The running app. */
export interface RawActorApp {
  port: number;
  calls: AppCall[];
  /** Emits `call` with each {@link AppCall}, and `config` when the sidecar asks for `/dapr/config`. */
  events: EventEmitter;
  /** The sidecar's HTTP port, for nested calls; set once it runs. */
  sidecarPort: number;
  /** Results of nested calls the `nest` method made (status and body). */
  nested: { status: number; body: string }[];
  /** Answers the `hold` calls of an actor id, which wait until then. */
  release(actorId: string): void;
  close(): Promise<void>;
}

/** Starts the app on `port`; with `configGate`, `GET /dapr/config` is answered once it resolves. */
export function startRawActorApp(port: number, config: unknown, configGate?: Promise<void>): Promise<RawActorApp> {
  const events = new EventEmitter();
  const held = new Map<string, (() => void)[]>();
  const app: RawActorApp = {
    port,
    calls: [],
    events,
    sidecarPort: 0,
    nested: [],
    release: (actorId) => {
      for (const answer of held.get(actorId) ?? []) answer();
      held.delete(actorId);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call: AppCall = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      if (call.path === '/dapr/config') {
        void (configGate ?? Promise.resolve()).then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config)));
        events.emit('config');
        return;
      }
      app.calls.push(call);
      events.emit('call', call);
      void answer(call, res);
    });
  });
  const answer = async (call: AppCall, res: http.ServerResponse) => {
    const m = /^\/actors\/([^/]+)\/([^/]+)(?:\/method\/(.*))?$/.exec(call.path);
    if (!m) return void res.writeHead(404).end();
    const [, type, id, method] = m;
    if (call.method === 'DELETE' && method === undefined) return void res.writeHead(200).end();
    if (method === 'fail') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    if (method === 'hold') {
      const list = held.get(id ?? '') ?? [];
      list.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('"released"'));
      held.set(id ?? '', list);
      return;
    }
    if (method === 'echo') return void res.writeHead(200, { 'content-type': 'application/json' }).end(call.body);
    if (method?.startsWith('remind/cancel')) return void res.writeHead(200, { 'X-DaprReminderCancel': 'true' }).end();
    if (method?.startsWith('remind/') || method?.startsWith('timer/')) return void res.writeHead(200).end();
    if (method === 'nest') {
      const { depth } = JSON.parse(call.body) as { depth: number };
      if (depth > 1) {
        const r = await fetch(`http://127.0.0.1:${app.sidecarPort}/v1.0/actors/${type}/${id}/method/nest`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'dapr-reentrancy-id': String(call.headers['dapr-reentrancy-id'] ?? '') },
          body: JSON.stringify({ depth: depth - 1 }),
        });
        const body = await r.text();
        app.nested.push({ status: r.status, body });
        if (r.status !== 200) return void res.writeHead(500, { 'content-type': 'application/json' }).end(body);
      }
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ depth }));
    }
    res.writeHead(404).end();
  };
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(app)));
}

/** Resolves with the next call the app receives that `match` accepts. */
export function nextCall(app: RawActorApp, match: (c: AppCall) => boolean, timeoutMs = 15_000): Promise<AppCall> {
  const seen = app.calls.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      app.events.off('call', listener);
      reject(new Error(`no matching app call within ${timeoutMs}ms`));
    }, timeoutMs);
    const listener = (c: AppCall) => {
      if (!match(c)) return;
      clearTimeout(timer);
      app.events.off('call', listener);
      resolve(c);
    };
    app.events.on('call', listener);
  });
}

/** Waits until the sidecar lists `type` among its hosted actors. */
export async function waitForHosted(httpPort: number, type: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const meta = (await (await fetch(`http://127.0.0.1:${httpPort}/v1.0/metadata`)).json()) as { actors?: { type: string }[] };
    if ((meta.actors ?? []).some((a) => a.type === type)) return;
    if (Date.now() > deadline) throw new Error(`the sidecar never hosted ${type}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
