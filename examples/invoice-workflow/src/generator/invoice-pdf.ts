/**
 * Renders an invoice as a real multi-page PDF with pdf-lib: a vendor letterhead, the invoice number
 * and date, a table of line items that continues over as many pages as needed (each continuation page
 * repeats the vendor and invoice number), and the subtotal, tax and total on the last page. The text
 * is real text (not an image), so extract-service reads it back with pdfjs-dist.
 */
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import type { PDFFont, PDFPage } from 'pdf-lib';
import type { LineItem } from '../shared/models.js';

/** Everything printed on an invoice. */
export interface InvoiceSpec {
  vendor: string;
  vendorAddress: string;
  customer: string;
  invoiceNumber: string;
  invoiceDate: string;
  currency: string;
  lineItems: LineItem[];
  /** As printed (may differ from the sum of the lines, for the mismatched sample). */
  subtotal: number;
  taxRatePercent: number;
  tax: number;
  total: number;
  /** Table rows on the first page and on each following page. */
  rowsFirstPage: number;
  rowsPerPage: number;
}

/** `1,234.50`: the format the extractor parses. */
export function formatMoney(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const A4: [number, number] = [595.28, 841.89];
const LEFT = 50;
const COLUMNS = { qty: 360, unitPrice: 450, amount: 545 };
const ROW = 18;

function right(page: PDFPage, text: string, x: number, y: number, font: PDFFont, size = 10): void {
  page.drawText(text, { x: x - font.widthOfTextAtSize(text, size), y, size, font });
}

/** Splits the lines into pages: `rowsFirstPage` on page 1, `rowsPerPage` after. */
export function paginate<T>(items: T[], first: number, rest: number): T[][] {
  const pages: T[][] = [items.slice(0, first)];
  for (let i = first; i < items.length; i += rest) pages.push(items.slice(i, i + rest));
  return pages;
}

/** Renders the invoice; deterministic for a given spec (fixed document dates). */
export async function renderInvoicePdf(spec: InvoiceSpec): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const date = new Date(`${spec.invoiceDate}T09:00:00Z`);
  doc.setTitle(`Invoice ${spec.invoiceNumber}`);
  doc.setAuthor(spec.vendor);
  doc.setCreator('weft invoice-workflow sample generator');
  doc.setProducer('pdf-lib');
  doc.setCreationDate(date);
  doc.setModificationDate(date);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const chunks = paginate(spec.lineItems, spec.rowsFirstPage, spec.rowsPerPage);
  for (const [index, rows] of chunks.entries()) {
    const page = doc.addPage(A4);
    const pageNumber = index + 1;
    let y = 780;
    // Letterhead on every page: the vendor, and what this document is.
    page.drawText(spec.vendor, { x: LEFT, y, size: 16, font: bold });
    right(page, index === 0 ? 'INVOICE' : `Invoice ${spec.invoiceNumber} - continued`, 545, y, bold, index === 0 ? 16 : 11);
    y -= 16;
    page.drawText(spec.vendorAddress, { x: LEFT, y, size: 9, font: regular, color: rgb(0.35, 0.35, 0.35) });
    y -= 36;
    if (index === 0) {
      for (const [label, value] of [
        ['Bill to:', spec.customer],
        ['Invoice number:', spec.invoiceNumber],
        ['Invoice date:', spec.invoiceDate],
        ['Currency:', spec.currency],
      ] as const) {
        page.drawText(`${label} ${value}`, { x: LEFT, y, size: 10, font: regular });
        y -= 15;
      }
      y -= 20;
    }
    page.drawText('Description', { x: LEFT, y, size: 10, font: bold });
    right(page, 'Qty', COLUMNS.qty, y, bold);
    right(page, 'Unit price', COLUMNS.unitPrice, y, bold);
    right(page, 'Amount', COLUMNS.amount, y, bold);
    y -= 6;
    page.drawLine({ start: { x: LEFT, y }, end: { x: 545, y }, thickness: 0.7 });
    y -= ROW - 4;
    for (const item of rows) {
      page.drawText(item.description, { x: LEFT, y, size: 10, font: regular });
      right(page, String(item.quantity), COLUMNS.qty, y, regular);
      right(page, formatMoney(item.unit_price), COLUMNS.unitPrice, y, regular);
      right(page, formatMoney(item.amount), COLUMNS.amount, y, regular);
      y -= ROW;
    }
    if (pageNumber === chunks.length) {
      y -= 4;
      page.drawLine({ start: { x: 330, y: y + 12 }, end: { x: 545, y: y + 12 }, thickness: 0.7 });
      for (const [label, value, font] of [
        ['Subtotal', formatMoney(spec.subtotal), regular],
        [`VAT ${spec.taxRatePercent}%`, formatMoney(spec.tax), regular],
        [`Total ${spec.currency}`, formatMoney(spec.total), bold],
      ] as const) {
        page.drawText(label, { x: 340, y, size: 10, font });
        right(page, value, COLUMNS.amount, y, font);
        y -= ROW;
      }
      page.drawText('Payment terms: 30 days net. Please quote the invoice number with your payment.', { x: LEFT, y: y - 20, size: 8, font: regular });
    }
    page.drawText(`Page ${pageNumber} of ${chunks.length}`, { x: LEFT, y: 40, size: 8, font: regular, color: rgb(0.35, 0.35, 0.35) });
    right(page, 'IBAN DE89 3704 0044 0532 0130 00', 545, 40, regular, 8);
  }
  return doc.save();
}
