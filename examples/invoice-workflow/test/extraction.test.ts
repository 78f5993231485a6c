/**
 * The PDF work without the processes: every generated sample read back page by page (pdf-lib split,
 * pdfjs-dist text) equals its truth, the merge flags sums that disagree, and the malformed sample is
 * refused by pdf-lib.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePages } from '../src/aggregate/merge-pages.js';
import { parseInvoicePage, parseMoney } from '../src/extract/parse-invoice-page.js';
import { readPdfLines } from '../src/extract/pdf-text.js';
import { generateSamples } from '../src/generator/samples.js';
import type { InvoiceTruth, PageExtraction } from '../src/shared/models.js';

describe('generated invoices read back with pdf-lib and pdfjs-dist', () => {
  let dir: string;
  let truths: InvoiceTruth[];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-invoice-pdf-'));
    truths = await generateSamples(dir);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('generates the same bytes every time (the committed samples are reproducible)', async () => {
    for (const t of truths) {
      const committed = await fs.readFile(path.join(import.meta.dirname, '..', 'samples', t.file));
      expect((await fs.readFile(path.join(dir, t.file))).equals(committed), t.file).toBe(true);
    }
  });

  it('extracts every field of every readable sample, split into one-page PDFs', async () => {
    for (const truth of truths.filter((t) => !t.malformed)) {
      const source = await PDFDocument.load(await fs.readFile(path.join(dir, truth.file)));
      expect(source.getPageCount(), truth.file).toBe(truth.page_count);
      const pages: PageExtraction[] = [];
      for (let i = 0; i < source.getPageCount(); i++) {
        const single = await PDFDocument.create();
        const [page] = await single.copyPages(source, [i]);
        if (page) single.addPage(page);
        const [lines] = await readPdfLines(await single.save());
        pages.push(parseInvoicePage(i + 1, lines ?? []));
      }
      // Shuffled: aggregation restores the page order.
      const invoice = mergePages(truth.invoice_id, [...pages].reverse(), `results/${truth.invoice_id}.json`);
      expect(invoice).toMatchObject({
        invoice_number: truth.invoice_number,
        invoice_date: truth.invoice_date,
        vendor: truth.vendor,
        currency: truth.currency,
        subtotal: truth.subtotal,
        tax: truth.tax,
        total: truth.total,
        page_count: truth.page_count,
      });
      expect(invoice.line_items).toEqual(truth.line_items);
      expect(invoice.validation.ok, `${truth.file}: ${invoice.validation.issues.join('; ')}`).toBe(truth.sums_add_up);
    }
  });

  it('refuses a page extracted twice, and reports disagreeing pages and sums', () => {
    const page = (n: number, over: Partial<PageExtraction> = {}): PageExtraction => ({
      page_number: n, invoice_number: 'A-1', invoice_date: null, vendor: 'V', currency: null, line_items: [], subtotal: null, tax: null, total: null, text_length: 10, ...over,
    });
    expect(() => mergePages('x', [page(1), page(1)], 'r')).toThrow('page 1 was extracted more than once');
    const invoice = mergePages('x', [
      page(1, { invoice_date: '2025-01-01', currency: 'EUR', line_items: [{ description: 'a', quantity: 2, unit_price: 1.5, amount: 4 }] }),
      page(2, { invoice_number: 'B-2', subtotal: 4, tax: 1, total: 6 }),
    ], 'r');
    expect(invoice.validation.issues).toEqual([
      'line "a": 2 × 1.5 is 3, not 4',
      'subtotal 4.00 + tax 1.00 is 5.00 but the total says 6.00',
      'invoice number differs between page 1 (A-1) and page 2 (B-2)',
    ]);
  });

  it('parses money with thousands separators', () => {
    expect(parseMoney('12,345.67')).toBe(12345.67);
    expect(parseMoney('0.50')).toBe(0.5);
  });

  it('leaves the malformed sample to fail in pdf-lib', async () => {
    const truth = truths.find((t) => t.malformed) as InvoiceTruth;
    await expect(PDFDocument.load(await fs.readFile(path.join(dir, truth.file)), { throwOnInvalidObject: true })).rejects.toThrow(/Failed to parse|invalid/i);
  });
});
