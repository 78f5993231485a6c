// Loaded with `node --import` by start-up tests: appends the URL of every module the ES module
// loader loads (packages imported from ES modules included, whatever their format) to the file
// named by WEFT_TEST_MODULE_LOG, one per line, as each loads.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.WEFT_TEST_MODULE_LOG) {
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
import fs from 'node:fs';
const file = ${JSON.stringify(process.env.WEFT_TEST_MODULE_LOG)};
export async function load(url, context, next) {
  fs.appendFileSync(file, url + '\\n');
  return next(url, context);
}
`),
  );
}
