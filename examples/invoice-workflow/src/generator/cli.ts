/**
 * `npm run generate [-- <dir>]`: writes the sample invoices (PDF + truth JSON) into `samples/` or the
 * given folder.
 */
import path from 'node:path';
import { EXAMPLE_DIR } from '../shared/config.js';
import { generateSamples } from './samples.js';

const dir = path.resolve(process.argv[2] ?? path.join(EXAMPLE_DIR, 'samples'));
const truths = await generateSamples(dir);
for (const t of truths) {
  const what = t.malformed ? 'malformed' : `${t.page_count} page(s), ${t.line_items.length} lines, total ${t.currency} ${t.total}${t.sums_add_up ? '' : ' (sums do not add up)'}`;
  console.log(`${path.join(dir, t.file)}  ${t.invoice_id}  ${what}`);
}
