/**
 * aggregate-service: merges the pages' extractions into the final invoice JSON, checks that the sums
 * add up, and writes it to `results/<invoice_id>.json` in the artifacts folder.
 */
import { artifactPath, writeArtifact } from '../shared/artifacts.js';
import { mergePages } from '../aggregate/merge-pages.js';
import { loadConfig } from '../shared/config.js';
import { HttpError, createService, listen, parseBody } from '../shared/http-service.js';
import { AggregateRequest } from '../shared/models.js';
import type { Invoice } from '../shared/models.js';

const config = loadConfig();
const app = createService('aggregate-service', config);

app.post('/aggregate', async (req): Promise<Invoice> => {
  const { invoice_id, pages } = parseBody(AggregateRequest, req);
  const resultPath = artifactPath('results', `${invoice_id}.json`);
  let invoice: Invoice;
  try {
    invoice = mergePages(invoice_id, pages, resultPath);
  } catch (err) {
    throw new HttpError(422, 'invalid_pages', `invoice ${invoice_id}: ${(err as Error).message}`);
  }
  await writeArtifact(config.ARTIFACTS_DIR, resultPath, `${JSON.stringify(invoice, null, 2)}\n`);
  req.log.info({ invoice_id, total: invoice.total, valid: invoice.validation.ok, issues: invoice.validation.issues }, 'aggregated invoice');
  return invoice;
});

await listen(app, config);
