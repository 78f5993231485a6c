// Benchmark app: answers every request with a small JSON body. Port from APP_PORT.
import http from 'node:http';
const body = JSON.stringify({ ok: true, service: 'bench' });
http
  .createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  })
  .listen(Number(process.env.APP_PORT), '127.0.0.1');
