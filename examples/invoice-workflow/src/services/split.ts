/**
 * split-service: splits the uploaded PDF into one PDF per page with pdf-lib, written to
 * `pages/<invoice_id>/page-NNN.pdf`. A file pdf-lib cannot parse is answered with 422 (`malformed_pdf`):
 * the workflow fails at once with that message instead of retrying.
 */
import { PDFDocument } from 'pdf-lib';
import { artifactPath, readArtifact, writeArtifact } from '../shared/artifacts.js';
import { loadConfig } from '../shared/config.js';
import { HttpError, createService, listen, parseBody } from '../shared/http-service.js';
import { SplitRequest } from '../shared/models.js';
import type { PageRef, SplitResult } from '../shared/models.js';

const config = loadConfig();
const app = createService('split-service', config);

/** Loads a PDF, turning pdf-lib's parse errors into a 422 that names the file. */
async function loadPdf(invoiceId: string, data: Uint8Array): Promise<PDFDocument> {
  try {
    // Encrypted invoices are split all the same: their pages are copied, not decrypted.
    return await PDFDocument.load(data, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: true });
  } catch (err) {
    throw new HttpError(422, 'malformed_pdf', `invoice ${invoiceId}: the PDF cannot be read (${(err as Error).message})`);
  }
}

app.post('/split', async (req): Promise<SplitResult> => {
  const { invoice_id, blob_path } = parseBody(SplitRequest, req);
  const data = await readArtifact(config.ARTIFACTS_DIR, blob_path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new HttpError(404, 'blob_not_found', `no uploaded PDF at ${blob_path}`);
    throw err;
  });
  const source = await loadPdf(invoice_id, data);
  const count = source.getPageCount();
  if (count === 0) throw new HttpError(422, 'malformed_pdf', `invoice ${invoice_id}: the PDF has no pages`);
  const pages: PageRef[] = [];
  for (let index = 0; index < count; index++) {
    const single = await PDFDocument.create();
    const [page] = await single.copyPages(source, [index]);
    if (!page) throw new HttpError(422, 'malformed_pdf', `invoice ${invoice_id}: page ${index + 1} cannot be copied`);
    single.addPage(page);
    const pagePath = artifactPath('pages', invoice_id, `page-${String(index + 1).padStart(3, '0')}.pdf`);
    await writeArtifact(config.ARTIFACTS_DIR, pagePath, await single.save());
    pages.push({ page_number: index + 1, path: pagePath });
  }
  req.log.info({ invoice_id, pages: count }, 'split PDF into pages');
  return { invoice_id, page_count: count, pages };
});

await listen(app, config);
