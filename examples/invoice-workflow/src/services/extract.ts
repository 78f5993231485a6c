/**
 * extract-service: reads the text of one page with pdfjs-dist and extracts the invoice fields it shows
 * (invoice number, date, vendor, line items, subtotal, tax, total). Stateless and idempotent, so the
 * workflow may call it again for a page after a crash. `EXTRACT_DELAY_MS` adds latency per page, as a
 * slow OCR backend would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseInvoicePage } from '../extract/parse-invoice-page.js';
import { readPdfLines } from '../extract/pdf-text.js';
import { readArtifact } from '../shared/artifacts.js';
import { loadConfig } from '../shared/config.js';
import { HttpError, createService, listen, parseBody } from '../shared/http-service.js';
import { ExtractRequest } from '../shared/models.js';
import type { PageExtraction } from '../shared/models.js';

const config = loadConfig();
const app = createService('extract-service', config);

app.post('/extract', async (req): Promise<PageExtraction> => {
  const { invoice_id, page } = parseBody(ExtractRequest, req);
  req.log.info({ invoice_id, page: page.page_number }, 'extracting page');
  const data = await readArtifact(config.ARTIFACTS_DIR, page.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new HttpError(404, 'page_not_found', `no page PDF at ${page.path}`);
    throw err;
  });
  if (config.EXTRACT_DELAY_MS > 0) await sleep(config.EXTRACT_DELAY_MS);
  let lines: string[][];
  try {
    lines = await readPdfLines(data);
  } catch (err) {
    throw new HttpError(422, 'malformed_pdf', `invoice ${invoice_id} page ${page.page_number}: the PDF cannot be read (${(err as Error).message})`);
  }
  if (lines.length !== 1) throw new HttpError(422, 'not_one_page', `invoice ${invoice_id}: ${page.path} has ${lines.length} pages, expected 1`);
  const extraction = parseInvoicePage(page.page_number, lines[0] ?? []);
  if (extraction.text_length === 0) throw new HttpError(422, 'no_text', `invoice ${invoice_id} page ${page.page_number} has no text layer (a scanned image?)`);
  req.log.info({ invoice_id, page: page.page_number, line_items: extraction.line_items.length }, 'extracted page');
  return extraction;
});

await listen(app, config);
