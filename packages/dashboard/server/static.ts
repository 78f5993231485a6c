/** Serves the built browser app from `dist/` (every asset local: the dashboard works offline). */
import fsp from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Answers a GET for a file under `root`; unknown paths get `index.html` (the app routes itself). */
export async function serveStatic(root: string, urlPath: string, res: http.ServerResponse): Promise<void> {
  const relative = decodeURIComponent(urlPath).replace(/^\/+/, '');
  let file = path.resolve(root, relative);
  if (!file.startsWith(path.resolve(root) + path.sep)) file = path.join(root, 'index.html');
  let body: Buffer;
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
    body = await fsp.readFile(file);
  } catch {
    file = path.join(root, 'index.html');
    try {
      body = await fsp.readFile(file);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`the dashboard is not built: no ${file} (run npm run build)`);
      return;
    }
  }
  const hashed = /\/assets\//.test(file);
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
