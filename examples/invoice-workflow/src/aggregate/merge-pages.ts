/**
 * Merges the per-page extractions of one invoice into the final invoice and checks it: the header
 * fields agree across pages, each line's quantity × unit price is its amount, the lines add up to the
 * subtotal and subtotal + tax is the total. Problems are listed in `validation.issues`; they do not
 * throw, because a person decides what happens to an invoice that does not add up.
 */
import { money } from '../shared/models.js';
import type { Invoice, PageExtraction } from '../shared/models.js';

/** Amounts closer than this are equal (rounding on the printed invoice). */
const TOLERANCE = 0.011;

/** The first non-null value, and an issue when pages disagree. */
function agreed<T>(field: string, pages: PageExtraction[], pick: (p: PageExtraction) => T | null, issues: string[]): T | null {
  const seen = pages.map((p) => [p.page_number, pick(p)] as const).filter((e): e is readonly [number, T] => e[1] !== null);
  const first = seen[0];
  if (!first) {
    issues.push(`${field} not found on any page`);
    return null;
  }
  const other = seen.find(([, v]) => v !== first[1]);
  if (other) issues.push(`${field} differs between page ${first[0]} (${String(first[1])}) and page ${other[0]} (${String(other[1])})`);
  return first[1];
}

/** Builds the final invoice from its pages (in any order; each page number at most once). */
export function mergePages(invoiceId: string, pages: PageExtraction[], resultPath: string): Invoice {
  const ordered = [...pages].sort((a, b) => a.page_number - b.page_number);
  const duplicates = ordered.filter((p, i) => i > 0 && ordered[i - 1]?.page_number === p.page_number);
  if (duplicates.length > 0) throw new Error(`page ${duplicates[0]?.page_number} was extracted more than once`);
  const issues: string[] = [];
  const lineItems = ordered.flatMap((p) => p.line_items);
  for (const item of lineItems) {
    if (Math.abs(money(item.quantity * item.unit_price) - item.amount) > TOLERANCE) {
      issues.push(`line "${item.description}": ${item.quantity} × ${item.unit_price} is ${money(item.quantity * item.unit_price)}, not ${item.amount}`);
    }
  }
  const lineItemsSum = money(lineItems.reduce((s, i) => s + i.amount, 0));
  const subtotal = agreed('subtotal', ordered, (p) => p.subtotal, issues);
  const tax = agreed('tax', ordered, (p) => p.tax, issues);
  const total = agreed('total', ordered, (p) => p.total, issues);
  if (lineItems.length === 0) issues.push('no line items found');
  if (subtotal !== null && Math.abs(lineItemsSum - subtotal) > TOLERANCE) {
    issues.push(`line items add up to ${lineItemsSum.toFixed(2)} but the subtotal says ${subtotal.toFixed(2)}`);
  }
  if (subtotal !== null && tax !== null && total !== null && Math.abs(money(subtotal + tax) - total) > TOLERANCE) {
    issues.push(`subtotal ${subtotal.toFixed(2)} + tax ${tax.toFixed(2)} is ${money(subtotal + tax).toFixed(2)} but the total says ${total.toFixed(2)}`);
  }
  const invoice: Invoice = {
    invoice_id: invoiceId,
    invoice_number: agreed('invoice number', ordered, (p) => p.invoice_number, issues),
    invoice_date: agreed('invoice date', ordered, (p) => p.invoice_date, issues),
    vendor: agreed('vendor', ordered, (p) => p.vendor, issues),
    currency: agreed('currency', ordered, (p) => p.currency, issues),
    line_items: lineItems,
    subtotal,
    tax,
    total,
    page_count: ordered.length,
    pages: ordered.map((p) => p.page_number),
    validation: { ok: issues.length === 0, line_items_sum: lineItemsSum, issues },
    result_path: resultPath,
  };
  return invoice;
}
