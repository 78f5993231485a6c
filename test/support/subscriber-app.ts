/**
 * A real HTTP app on a free port for pub/sub tests: answers `GET /dapr/subscribe` with the given
 * subscriptions, records every delivery (path, headers, parsed body) and answers with a programmable
 * reply, so tests can assert what the sidecar sent and steer SUCCESS/RETRY/DROP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the app received. */
export interface Delivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: unknown;
}

/** What the app answers to one delivery. */
export interface AppReply {
  status?: number;
  json?: unknown;
  text?: string;
  /** Never answer (a hanging app). */
  hang?: boolean;
  /** Answer after this many milliseconds (a slow app). */
  delayMs?: number;
}

/** A running subscriber app. */
export interface SubscriberApp {
  port: number;
  deliveries: Delivery[];
  /** Deliveries to one path. */
  at(path: string): Delivery[];
  /** Sets how the app answers; called per delivery. */
  reply(fn: (d: Delivery) => AppReply): void;
  /** Resolves when `predicate` holds, or rejects with what arrived after `timeoutMs`. */
  waitFor(predicate: (deliveries: Delivery[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a subscriber app on a free port (or the given one). */
export async function startSubscriberApp(subscriptions: unknown, port = 0): Promise<SubscriberApp> {
  const deliveries: Delivery[] = [];
  let replyFn: (d: Delivery) => AppReply = () => ({ json: { status: 'SUCCESS' } });
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (req.method === 'GET' && path === '/dapr/subscribe') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(subscriptions));
        return;
      }
      if (req.method === 'GET' && path === '/dapr/config') {
        // The sidecar reads the app's actor configuration at discovery (as daprd does); this app hosts none.
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // keep the text
      }
      const delivery: Delivery = { path, headers: req.headers, raw, body };
      deliveries.push(delivery);
      for (const w of waiters) w();
      const reply = replyFn(delivery);
      if (reply.hang) return;
      const send = () => {
        if (res.destroyed) return;
        if (reply.json !== undefined) {
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.json));
      } else {
        res.writeHead(reply.status ?? 200);
        res.end(reply.text ?? '');
      }
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    deliveries,
    at: (p) => deliveries.filter((d) => d.path === p),
    reply: (fn) => {
      replyFn = fn;
    },
    waitFor: (predicate, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(deliveries)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`condition not met within ${timeoutMs}ms; deliveries: ${JSON.stringify(deliveries.map((d) => [d.path, d.raw.slice(0, 200)]))}`));
        }, timeoutMs);
        const interval = setInterval(check, 50);
        const cleanup = () => {
          clearTimeout(timer);
          clearInterval(interval);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `fn` until it returns true or the deadline passes. */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
