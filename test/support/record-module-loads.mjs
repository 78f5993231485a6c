// Loaded with `node --import` by start-up tests: appends to the file named by WEFT_TEST_MODULE_LOG, one
// line each, as it happens:
// - the URL of every module the ES module loader loads (packages imported from ES modules included,
//   whatever their format);
// - the file URL of every CommonJS module compiled by `require` (`createRequire`, lazily loaded
//   libraries and what they require);
// - `response <status> <url>` for every `healthz` answer of the process's HTTP servers, so a test can
//   tell what loaded before readiness was reported from what loaded after.
import fs from 'node:fs';
import http from 'node:http';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const file = process.env.WEFT_TEST_MODULE_LOG;
if (isMainThread && file) {
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
import fs from 'node:fs';
const file = ${JSON.stringify(file)};
export async function load(url, context, next) {
  fs.appendFileSync(file, url + '\\n');
  return next(url, context);
}
`),
  );
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    fs.appendFileSync(file, pathToFileURL(filename).href + '\n');
    return compile.call(this, content, filename);
  };
  const writeHead = http.ServerResponse.prototype.writeHead;
  http.ServerResponse.prototype.writeHead = function (statusCode, ...rest) {
    const url = this.req?.url ?? '';
    if (url.startsWith('/v1.0/healthz')) fs.appendFileSync(file, `response ${statusCode} ${url}\n`);
    return writeHead.call(this, statusCode, ...rest);
  };
}
