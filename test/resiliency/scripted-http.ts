/**
 * A real HTTP server for resiliency tests whose answers are scripted per path: a queue of statuses
 * (or `'hang'`: never answer) is used up first, then `fallback` answers (200 unless changed). It
 * counts the requests each path received and can be stopped and started again on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer: an HTTP status, or no answer at all. */
export type ScriptedAnswer = number | 'hang';

/** A scripted HTTP server. */
export class ScriptedHttpServer {
  /** Answers still to give, per path (without query). */
  readonly script = new Map<string, ScriptedAnswer[]>();
  /** Requests received, per path. */
  readonly calls = new Map<string, number>();
  /** What a path answers once its script is used up. */
  fallback: ScriptedAnswer = 200;
  port = 0;
  private server: http.Server | undefined;

  /** Answers `status` (or hangs) for the next requests to `path`, in order. */
  next(path: string, ...answers: ScriptedAnswer[]): void {
    this.script.set(path, answers);
  }

  /** Requests `path` has received. */
  count(path: string): number {
    return this.calls.get(path) ?? 0;
  }

  /** Listens on `port` (a free one the first time, the same one after {@link stop}). */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.calls.set(path, this.count(path) + 1);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.script.get(path)?.shift() ?? this.fallback;
        if (answer === 'hang') return;
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path, status: answer, body: Buffer.concat(chunks).toString('utf8') }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection (the port stays reserved for {@link start}). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls a metrics text until `pattern` matches; throws after `timeoutMs`. */
export async function waitForMetric(render: () => Promise<string | undefined>, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test((await render()) ?? '')) {
    if (Date.now() > deadline) throw new Error(`no metric matching ${String(pattern)} within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A regular expression for one labelled sample of `name` whose labels include all of `labels` and whose value matches `value`. */
export function metricLine(name: string, labels: Record<string, string>, value = '[1-9][0-9]*'): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = Object.entries(labels).map(([k, v]) => `(?=[^}]*\\b${escape(k)}="${escape(v)}")`);
  return new RegExp(`^${escape(name)}\\{${parts.join('')}[^}]*\\} ${value}$`, 'm');
}
