/**
 * A tiny HTTP app for input-binding and job tests: records every request and answers from a
 * per-path rule (status and body), 404 for paths it does not know.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the app received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How the app answers one path; a function sees the request (e.g. to fail the first attempts). */
export type PathRule = { status: number; body?: string } | ((req: RecordedRequest) => { status: number; body?: string });

/** A running recording app. */
export interface RecordingApp {
  port: number;
  requests: RecordedRequest[];
  /** Requests with the given method and path. */
  received(method: string, path: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts an app that answers the given paths (any method) by rule. */
export async function startRecordingApp(rules: Record<string, PathRule>): Promise<RecordingApp> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(record);
      const rule = rules[record.path];
      const answer = rule === undefined ? { status: 404 } : typeof rule === 'function' ? rule(record) : rule;
      res.writeHead(answer.status, answer.body ? { 'content-type': 'application/json' } : {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    received: (method, path) => requests.filter((r) => r.method === method && r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
