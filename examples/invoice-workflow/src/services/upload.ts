/**
 * upload-service: takes `{ invoice_id, pdf_path }`, reads the PDF from the inbox folder and stores it
 * in the artifacts folder as `blobs/<invoice_id>/invoice.pdf` (the seed copies it to
 * `/artifacts/blobs/`). Idempotent: a retried upload overwrites the same blob with the same bytes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { artifactPath, writeArtifact } from '../shared/artifacts.js';
import { PathOutsideError, insideDir, loadConfig } from '../shared/config.js';
import { HttpError, createService, listen, parseBody } from '../shared/http-service.js';
import { UploadRequest } from '../shared/models.js';
import type { UploadResult } from '../shared/models.js';

const config = loadConfig();
const app = createService('upload-service', config);

app.post('/upload', async (req): Promise<UploadResult> => {
  const { invoice_id, pdf_path } = parseBody(UploadRequest, req);
  let source: string;
  try {
    source = insideDir(config.INVOICE_INBOX, pdf_path);
  } catch (err) {
    if (err instanceof PathOutsideError) throw new HttpError(400, 'path_outside_inbox', `pdf_path must name a file inside the inbox folder ${config.INVOICE_INBOX}`);
    throw err;
  }
  const data = await fs.readFile(source).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'EISDIR') throw new HttpError(404, 'pdf_not_found', `no PDF at ${pdf_path} in ${config.INVOICE_INBOX}`);
    throw err;
  });
  if (data.subarray(0, 5).toString('latin1') !== '%PDF-') throw new HttpError(422, 'not_a_pdf', `${pdf_path} is not a PDF (it does not start with %PDF-)`);
  const blob = artifactPath('blobs', invoice_id, 'invoice.pdf');
  await writeArtifact(config.ARTIFACTS_DIR, blob, data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  req.log.info({ invoice_id, pdf_path, blob, bytes: data.length, sha256 }, 'stored uploaded PDF');
  return { invoice_id, blob_path: blob, sha256, bytes: data.length };
});

await listen(app, config);
