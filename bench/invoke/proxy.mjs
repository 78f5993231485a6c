// A bare Node reverse-proxy hop (the physical baseline): node:http server → undici keep-alive pool
// to TARGET_PORT, streaming both ways. Port from PORT.
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
const pool = new Pool(`http://127.0.0.1:${process.env.TARGET_PORT}`, { connections: 256, headersTimeout: 0, bodyTimeout: 0 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);
http
  .createServer({ keepAliveTimeout: 65_000 }, async (req, res) => {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    try {
      const up = await pool.request({ method: req.method, path: req.url, headers, body: req.method === 'GET' ? null : req });
      const out = {};
      for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode, out);
      await pipeline(up.body, res);
    } catch {
      res.destroy();
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
