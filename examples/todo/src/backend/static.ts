/**
 * Serves the built web page (`web/dist`): files by path, `index.html` for `/`. Small on purpose; the
 * page is a handful of hashed assets.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Registers `GET /` and `GET /assets/*` from `root`. */
export function serveWebPage(app: FastifyInstance, root: string): void {
  const send = async (file: string, cache: string) => {
    const resolved = path.resolve(root, file);
    if (!resolved.startsWith(path.resolve(root) + path.sep)) return undefined;
    try {
      return { body: await readFile(resolved), type: TYPES[path.extname(resolved)] ?? 'application/octet-stream', cache };
    } catch {
      return undefined;
    }
  };
  app.get('/', async (_req, reply) => {
    const file = await send('index.html', 'no-cache');
    if (!file) return reply.code(503).send({ error: 'the web page is not built: run `npm run build:web -w examples/todo`' });
    return reply.type(file.type).header('cache-control', file.cache).send(file.body);
  });
  app.get('/assets/*', async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const file = await send(path.join('assets', rest), 'public, max-age=31536000, immutable');
    if (!file) return reply.code(404).send({ error: 'not found' });
    return reply.type(file.type).header('cache-control', file.cache).send(file.body);
  });
}
